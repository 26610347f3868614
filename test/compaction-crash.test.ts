import test from "ava";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { spawnServer, writeServerConfig, type ServerProcess } from "../scripts/lib/server-process.ts";
import { adminFetch, until } from "./helpers/server.ts";
import { ProtoClient, makeBatch } from "./helpers/proto-client.ts";
import { dayOf } from "../server/storage/days.ts";
import { PartitionSet } from "../server/storage/partitions.ts";

/*
 * Compaction under SIGKILL and across processes: a server compacting every second is killed
 * again and again while reports arrive (yesterday's backfill too, so compactions are big
 * enough to be cut in the middle); after the last restart every acknowledged point is read
 * exactly once and the chunks hold no instant twice. Two processes on one data dir (as PM2
 * instances): one compacts, the other's queries see neither a gap nor a double meanwhile.
 */

const cpuPoints = async (server: ServerProcess, agent: string, from: number, to: number) => {
  const res = await adminFetch(`${server.http}/v1/metrics?agent=${agent}&metric=cpu.usage&from=${from}&to=${to}`);
  if (res.status !== 200) throw new Error(`/v1/metrics answered ${res.status}: ${await res.text()}`);
  return (((await res.json()) as { series: { points: number[][] }[] }).series[0]?.points ?? []).map((p) => p[0]!);
};

test("kill -9 at any moment of compaction under ingest loses and doubles nothing", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-compact-kill-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = path.join(dir, "data");
  const { file, ports } = await writeServerConfig(dir, { dataDir, extra: "compact_interval_secs = 1\n" });
  let server = await spawnServer(file, ports);
  t.teardown(() => { server.child.kill("SIGKILL"); });
  const base = Date.now() - 26 * 3_600_000;
  const acked = new Set<number>();
  let next = 0;
  for (let round = 0; round < 6; round++) {
    const client = new ProtoClient(server.grpc);
    const killAt = Date.now() + 1_200 + Math.random() * 1_500;
    // Until the kill: reports spread over the last 26 h (a backfill in yesterday's hours and today's).
    const sending = (async () => {
      while (Date.now() < killAt) {
        const ts = base + (next++ % 9_000) * 10_000 + Math.floor(next / 9_000);
        try {
          await client.report(makeBatch("kill-1", ts, 8));
          acked.add(ts);
        } catch { return; }
      }
    })();
    await new Promise((r) => setTimeout(r, killAt - Date.now()));
    server.child.kill("SIGKILL");
    await server.exited;
    await sending;
    client.close();
    server = await spawnServer(file, ports);
  }
  t.true(acked.size > 100, `${acked.size} reports acknowledged across 6 kills`);
  // The last server compacts what the killed ones left.
  const partitions = new PartitionSet(dataDir);
  t.teardown(() => partitions.closeAll());
  await until("every raw generation compacted", async () => {
    const raw = readdirSync(path.join(dataDir, "metrics")).filter((f) => /^\d{4}-\d{2}-\d{2}/.test(f) && !f.endsWith("-lock"));
    return raw.every((f) => partitions.generation(f.slice(0, 10), true) <= Number(/\.g(\d+)/.exec(f)?.[1] ?? 0)) ? true : undefined;
  }, 60_000);
  const stored = await cpuPoints(server, "kill-1", base - 1, Date.now());
  const want = [...acked].sort((a, b) => a - b);
  t.deepEqual(stored.filter((ts) => acked.has(ts)), want, "every acknowledged report once, in order");
  // In the chunks themselves, no instant twice (readers would hide a double; storage must not hold one).
  for (const day of new Set([...acked].map(dayOf))) {
    const view = partitions.view(day);
    const seen = new Set<number>();
    for (const chunk of view.chunks?.read("kill-1", base - 1, Date.now()) ?? []) {
      for (const ts of chunk.timestamps) {
        t.false(seen.has(ts), `instant ${ts} in two chunks`);
        seen.add(ts);
      }
    }
  }
  server.child.kill("SIGTERM");
  t.is(await server.exited, 0);
});

test("two processes on one data dir: one compacts, queries on the other see no gap and no double meanwhile", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-compact-two-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = path.join(dir, "data");
  const a = await writeServerConfig(dir, { dataDir, fileName: "a.toml", extra: "compact_interval_secs = 1\n" });
  const b = await writeServerConfig(dir, { dataDir, fileName: "b.toml", extra: "compact_interval_secs = 1\n" });
  const serverA = await spawnServer(a.file, a.ports);
  t.teardown(() => { serverA.child.kill("SIGKILL"); });
  const serverB = await spawnServer(b.file, b.ports);
  t.teardown(() => { serverB.child.kill("SIGKILL"); });
  const start = Date.now() - 3 * 3_600_000;
  const acked: number[] = [];
  const clients = [new ProtoClient(serverA.grpc), new ProtoClient(serverB.grpc)];
  // Reports alternate between the two processes; after each, both answer with exactly what was acknowledged.
  for (let i = 0; i < 120; i++) {
    const ts = start + i * 60_000;
    await clients[i % 2]!.report(makeBatch("two-1", ts, 6));
    acked.push(ts);
    if (i % 10 === 9) {
      for (const server of [serverA, serverB]) t.deepEqual(await cpuPoints(server, "two-1", start, Date.now()), acked, `after ${i + 1} reports`);
    }
  }
  for (const c of clients) c.close();
  // Both processes run the compactor job, one holds the lease: the raw data ends up compacted once.
  await until("everything compacted", async () =>
    readdirSync(path.join(dataDir, "metrics")).some((f) => /^\d{4}-\d{2}-\d{2}\.g\d+\.mdb$/.test(f)) && readdirSync(path.join(dataDir, "chunks")).length > 0 ? true : undefined, 60_000);
  for (let i = 0; i < 5; i++) {
    for (const server of [serverA, serverB]) t.deepEqual(await cpuPoints(server, "two-1", start, Date.now()), acked, "while compactions run");
    await new Promise((r) => setTimeout(r, 300));
  }
  for (const s of [serverA, serverB]) s.child.kill("SIGTERM");
  t.deepEqual(await Promise.all([serverA.exited, serverB.exited]), [0, 0]);
});
