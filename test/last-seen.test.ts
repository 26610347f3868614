import test from "ava";
import type { SystemInfo } from "../common/metrics.ts";
import { LastSeenWriter } from "../server/storage/last-seen-writer.ts";
import { mustRecordNow } from "../server/ingest/registry-update.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ControlStore, type AgentRecord } from "../server/storage/control-store.ts";
import { ProtoClient, makeBatch } from "./helpers/proto-client.ts";
import { getJson, startTestServer, until } from "./helpers/server.ts";

const info: SystemInfo = { hostname: "h", os: "Debian", kernel: "6.1", arch: "x64", cpuCores: 2, memoryTotal: 2 ** 33, diskTotal: 2 ** 40, agentVersion: "1.0.0" };
const known: AgentRecord = { agent_id: "a", first_seen: 1_000, last_seen: 5_000, system_info: info, dropped_batches: 0 };

test("a report goes to the registry before its ack only when it tells more than a later last_seen", (t) => {
  t.false(mustRecordNow(known, { seenMs: 6_000, systemInfo: undefined, droppedBatches: 0 }));
  t.false(mustRecordNow(known, { seenMs: 6_000, systemInfo: { ...info }, droppedBatches: 0 }), "the same system info, another object");
  t.false(mustRecordNow(known, { seenMs: 3_000, systemInfo: undefined, droppedBatches: 0 }), "a late report inside the agent's life");
  t.true(mustRecordNow(undefined, { seenMs: 6_000, systemInfo: undefined, droppedBatches: 0 }), "a new agent");
  t.true(mustRecordNow(known, { seenMs: 6_000, systemInfo: undefined, droppedBatches: 2 }), "dropped batches to count");
  t.true(mustRecordNow(known, { seenMs: 500, systemInfo: undefined, droppedBatches: 0 }), "older than the first report");
  t.true(mustRecordNow(known, { seenMs: 6_000, systemInfo: { ...info, kernel: "6.12" }, droppedBatches: 0 }), "an upgraded kernel");
  t.true(mustRecordNow({ ...known, system_info: undefined }, { seenMs: 6_000, systemInfo: info, droppedBatches: 0 }), "first system info");
});

test("a noted last_seen is read at once in its thread, written a moment later for the others; forward only", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-seen-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const control = new ControlStore(dir, (err) => t.fail(String(err)));
  const other = new ControlStore(dir); // as another thread opens it
  await control.touchAgent("a", 5_000, info, 1);
  await control.touchAgent("b", 9_000, undefined, 0);
  control.noteLastSeen("a", 7_000);
  control.noteLastSeen("a", 6_000); // arrives later, happened earlier
  control.noteLastSeen("b", 8_000); // behind what the registry holds
  control.noteLastSeen("gone", 7_000); // never recorded: a last_seen does not create it
  t.is(control.getAgent("a")!.last_seen, 7_000);
  t.deepEqual(control.listAgents().map((a) => [a.agent_id, a.last_seen]), [["a", 7_000], ["b", 9_000]]);
  await until("the other thread to read it", async () => (other.getAgent("a")!.last_seen === 7_000 ? true : undefined), 10_000);
  t.deepEqual(other.getAgent("a"), { agent_id: "a", first_seen: 5_000, last_seen: 7_000, system_info: info, dropped_batches: 1 });
  t.is(other.getAgent("b")!.last_seen, 9_000);
  t.is(other.getAgent("gone"), undefined);
  control.noteLastSeen("a", 8_000);
  await control.close(); // writes what is pending
  await other.close();
  const reopened = new ControlStore(dir);
  t.is(reopened.getAgent("a")!.last_seen, 8_000);
  await reopened.close();
});

test("a write that fails keeps its instants, still read as pending, for the next one", async (t) => {
  const errors: unknown[] = [];
  const written: [string, number][][] = [];
  let failNext = true;
  const writer = new LastSeenWriter(async (seen) => {
    if (failNext) {
      failNext = false;
      throw new Error("MDB_MAP_FULL");
    }
    written.push([...seen]);
  }, (err) => errors.push(err), 60_000);
  writer.note("a", 6_000);
  await writer.flush();
  t.is(errors.length, 1);
  t.is(writer.pending("a"), 6_000);
  writer.note("a", 5_000);
  await writer.close();
  t.deepEqual(written, [[["a", 6_000]]]);
  t.is(writer.pending("a"), undefined);
});

test.serial("a running server lists an agent's last report as soon as it is acknowledged, and writes the last ones at shutdown", async (t) => {
  const server = await startTestServer();
  const dataDir = server.dataDir;
  const client = new ProtoClient(server.grpc);
  const ts = Date.now() - 60_000;
  const lastSeen = async () => Date.parse((await getJson(`${server.http}/v1/agents`)).body.find((a: any) => a.agent_id === "seen-01")?.last_seen);
  try {
    t.deepEqual(await client.report(makeBatch("seen-01", ts, 3)), { success: true, message: "ok" });
    t.is(await lastSeen(), ts, "a new agent is in the registry when its first report is acknowledged");
    await client.report(makeBatch("seen-01", ts + 10_000, 3));
    t.is(await lastSeen(), ts + 10_000, "a later one, not yet written to LMDB, is read from the main thread's memory");
    await client.report(makeBatch("seen-01", ts + 20_000, 3));
  } finally {
    client.close();
    await server.close(); // keeps the data dir
  }
  const control = new ControlStore(dataDir);
  t.teardown(async () => {
    await control.close();
    await server.stop();
  });
  t.is(control.getAgent("seen-01")!.last_seen, ts + 20_000);
});

test("a reader never sees last_seen go back while writes queue behind a slow one; close writes the rest and takes no more", async (t) => {
  const commits: (() => void)[] = [];
  const written: [string, number][][] = [];
  const writer = new LastSeenWriter((seen) => new Promise((resolve) => commits.push(() => { written.push([...seen]); resolve(); })), (err) => t.fail(String(err)), 60_000);
  writer.note("a", 1_000);
  const first = writer.flush(); // its commit hangs, as a slow fsync would
  await new Promise((r) => setImmediate(r));
  writer.note("a", 2_000);
  const second = writer.flush(); // queued behind the first
  t.is(writer.pending("a"), 2_000);
  commits.shift()!();
  await first;
  t.is(writer.pending("a"), 2_000, "the queued batch is still read");
  await new Promise((r) => setImmediate(r));
  commits.shift()!();
  await second;
  t.is(writer.pending("a"), undefined);
  writer.note("a", 3_000);
  const closing = writer.close();
  await new Promise((r) => setImmediate(r));
  commits.shift()!();
  await closing;
  writer.note("a", 4_000); // after close: ignored, no timer left behind
  t.is(writer.pending("a"), undefined);
  t.deepEqual(written, [[["a", 1_000]], [["a", 2_000]], [["a", 3_000]]]);
});

