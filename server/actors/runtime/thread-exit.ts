/*
 * How an actor thread ends: by itself, at a point of its own choosing. Terminating a thread
 * from outside can land inside a synchronous native call (an LMDB open at start-up), and
 * Node then aborts the whole process.
 */

/** Re-exported by every pool worker module (PoolSupervisor.crashOneForTest runs it as a
 *  task) and exposed by every actor thread (SupervisedWorker.crashForTest calls it): the
 *  thread ends as a crash would. */
export function crashForTest(): never {
  process.exit(1);
}

/** Exposed by every actor thread: SupervisedWorker.close asks it to end. */
export function stopThread(): never {
  process.exit(0);
}
