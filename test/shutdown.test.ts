import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ProtoClient, makeBatch } from "./helpers/proto-client.ts";
import { spawnServer, writeServerConfig } from "../scripts/lib/server-process.ts";
import { adminFetch } from "./helpers/server.ts";

test("SIGTERM stops accepting, drains in-flight reports, closes LMDB and exits 0", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-stop-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { file, ports } = await writeServerConfig(dir);
  const first = await spawnServer(file, ports);
  t.teardown(() => { first.child.kill("SIGKILL"); });

  const start = Date.now() - 600_000;
  const acked = new Map<string, number[]>();
  let stop = false;
  const streams = ["g-1", "g-2", "g-3"].map(async (agentId) => {
    const client = new ProtoClient(first.grpc, undefined, { "grpc.use_local_subchannel_pool": 1 });
    acked.set(agentId, []);
    for (let i = 0; !stop && i < 10_000; i++) {
      const batch = makeBatch(agentId, start + i * 100, 4);
      try {
        await client.report(batch);
        acked.get(agentId)!.push(batch.timestamp_ms);
      } catch {
        break; // refused or disconnected: the server is going away
      }
    }
    client.close();
  });
  await sleep(1_000);
  first.child.kill("SIGTERM");
  t.is(await first.exited, 0, first.output());
  stop = true;
  await Promise.all(streams);
  t.regex(first.output(), /shutting down: draining in-flight reports/);
  t.regex(first.output(), /"msg":"stopped"/);

  const second = await spawnServer(file, ports);
  t.teardown(() => { second.child.kill("SIGKILL"); });
  for (const [agentId, stamps] of acked) {
    t.true(stamps.length > 0, `${agentId} reported before the stop`);
    const res = await adminFetch(`${second.http}/v1/metrics?agent=${agentId}&metric=cpu.usage&from=${start}&to=${start + 1_000_000}`);
    const body = await res.json() as { series: { points: number[][] }[] };
    const stored = new Set(body.series[0]!.points.map((p) => p[0]));
    t.true(stamps.every((ts) => stored.has(ts)), `${agentId}: every acknowledged report survived the restart`);
  }
  second.child.kill("SIGTERM");
  t.is(await second.exited, 0);
});

test("SIGKILL during sustained ingest: after a restart every acknowledged batch is there, once", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-kill-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { file, ports } = await writeServerConfig(dir, { extra: "[actors]\ningest_threads = 2\n" });
  const first = await spawnServer(file, ports);
  t.teardown(() => { first.child.kill("SIGKILL"); });

  // Twelve streams, each its own connection and agent, sending back to back: the kill
  // lands with writes in flight in both ingest threads. Batches alternate between the two
  // days around a UTC midnight, so both partitions are being written.
  const midnight = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000;
  const start = midnight - 500_000;
  const acked = new Map<string, number[]>();
  let attempted = 0;
  const streams = Array.from({ length: 12 }, async (_, s) => {
    const agentId = `k-${s}`;
    const client = new ProtoClient(first.grpc, undefined, { "grpc.use_local_subchannel_pool": 1 });
    acked.set(agentId, []);
    for (let i = 0; i < 100_000; i++) {
      const batch = makeBatch(agentId, i % 2 ? midnight + i * 10 : start + i * 10, 20);
      attempted++;
      try {
        await client.report(batch);
        acked.get(agentId)!.push(batch.timestamp_ms);
      } catch {
        break; // the server died under us
      }
    }
    client.close();
  });
  // Killed once a good number are in (not after a fixed time: on a loaded machine the
  // server may take seconds to warm up), while every stream has a report in flight.
  const acknowledged = () => [...acked.values()].reduce((n, a) => n + a.length, 0);
  for (const deadline = Date.now() + 60_000; acknowledged() < 120 && Date.now() < deadline;) await sleep(20);
  first.child.kill("SIGKILL");
  await first.exited;
  await Promise.all(streams);
  const total = [...acked.values()].reduce((n, a) => n + a.length, 0);
  t.true(total >= 24, `${total} batches acknowledged before the kill`);
  t.log(`${total} batches acknowledged, ${attempted - total} in flight at the kill`);
  t.true(attempted > total, "some batches were in flight when the server died");

  const second = await spawnServer(file, ports);
  t.teardown(() => { second.child.kill("SIGKILL"); });
  for (const [agentId, stamps] of acked) {
    const res = await adminFetch(`${second.http}/v1/metrics?agent=${agentId}&metric=cpu.usage&from=${start}&to=${start + 1_000_000}`);
    t.is(res.status, 200, agentId);
    const points = (await res.json() as { series: { points: number[][] }[] }).series[0]?.points ?? [];
    const stored = points.map((p) => p[0]!);
    t.is(new Set(stored).size, stored.length, `${agentId}: nothing stored twice`);
    const have = new Set(stored);
    t.deepEqual(stamps.filter((ts) => !have.has(ts)), [], `${agentId}: every acknowledged batch survived`);
  }
  t.true([...acked.values()].some((a) => a.some((ts) => ts >= midnight)) , "the streams reached the second day partition");
  second.child.kill("SIGTERM");
  t.is(await second.exited, 0);
});
