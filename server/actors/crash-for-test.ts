/**
 * Re-exported by every pool worker module (PoolSupervisor.crashOneForTest runs it as a task)
 * and exposed by every actor thread (SupervisedWorker.crashForTest calls it).
 * The thread ends itself as a crash would, at a point of its own choosing: terminating it from
 * outside can land inside a synchronous native call (an LMDB open), and Node then aborts the
 * whole process.
 */
export function crashForTest(): never {
  process.exit(1);
}
