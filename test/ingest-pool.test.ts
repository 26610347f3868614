import test, { type ExecutionContext } from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { IngestPool, reportBuffers } from "../server/actors/ingest/ingest-pool.ts";
import { encodeBatchProto } from "../server/ingest/decode.ts";
import type { AcceptedReport, IngestTask, WindowFeedMessage, WindowReport } from "../server/actors/protocol/messages.ts";
import { receiveWindowFeed } from "../server/actors/window/window-feed.ts";
import { windowFeedSettings } from "../server/actors/protocol/window-feed-layout.ts";
import { ControlStore } from "../server/storage/control-store.ts";
import { until } from "./helpers/server.ts";

/** A one-thread pool on a fresh data dir, removed when the test ends; what it sends the agent
 *  window is collected in `toWindow`. */
function startPool(t: ExecutionContext): { pool: IngestPool; toWindow: WindowReport[]; control: ControlStore } {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-ingest-pool-"));
  const control = new ControlStore(dir, (err) => t.fail(String(err)));
  const windowFeed = windowFeedSettings(1, 100);
  const toWindow: WindowReport[] = [];
  const feed = receiveWindowFeed(windowFeed, 0, (message: WindowFeedMessage) => { toWindow.push(...message.reports); });
  t.teardown(() => feed.close());
  const pool = new IngestPool({
    threads: 1, queue: 10, workerData: { dataDir: dir, retentionDays: 7, requireAgentAuth: false, windowFeed, peers: false },
    registry: control,
    policy: { baseMs: 100, maxMs: 1000, maxPerMinute: 5 }, onCrashLoop: () => t.fail("crash loop"),
  });
  t.teardown(async () => {
    await pool.close();
    await control.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { pool, toWindow, control };
}

test("reports submitted together are answered each on its own; beyond what the pool takes, RESOURCE_EXHAUSTED and nothing stored", async (t) => {
  const { pool, control } = startPool(t);
  const ts = Date.now() - 1_000;
  const report = (agentId: string, metric = "cpu.usage"): IngestTask =>
    ({ type: "report-batch", batch: { agentId, timestampMs: ts, points: [{ metric, labels: {}, value: 1, timestampMs: ts }] } });

  // Submitted in one turn of the event loop: more than the pool takes at once.
  const submitted = Array.from({ length: 100 }, (_, i) => pool.submit(i === 5 ? report("bad-5", "not a metric!") : report(`agent-${i}`)));
  const results = await Promise.allSettled(submitted);
  const codes = results.map((r) => (r.status === "fulfilled" ? `stored ${r.value.agentId}` : (r.reason as { code: string }).code));
  t.is(codes.filter((c) => c === "RESOURCE_EXHAUSTED").length, 100 - pool.acceptsAtOnce);
  t.deepEqual(codes.slice(pool.acceptsAtOnce), Array(100 - pool.acceptsAtOnce).fill("RESOURCE_EXHAUSTED"), "the latest are refused");
  t.is(codes[5], "INVALID_ARGUMENT", "a bad report in a batch is refused alone");
  const stored = codes.filter((c) => c.startsWith("stored "));
  t.is(stored.length, pool.acceptsAtOnce - 1);
  t.true(codes.every((c, i) => !c.startsWith("stored ") || c === `stored agent-${i}`), "each reply reaches its own report");

  t.deepEqual(control.listAgents().map((a) => a.agent_id).sort(), stored.map((c) => c.slice("stored ".length)).sort(), "stored exactly the accepted ones");
  t.is((await pool.submit(report("after"))).agentId, "after", "the pool takes reports again once answered");
});

test("a valid report goes to the agent window with its arrival time, and is announced before it is acknowledged; a refused one never", async (t) => {
  const { pool, toWindow, control } = startPool(t);
  pool.announceSamples(true); // as while a live client watches
  const seen: string[] = [];
  const accepted: AcceptedReport[] = [];
  pool.onAccepted((reports) => {
    accepted.push(...reports);
    seen.push(`accepted ${reports.map((r) => r.agentId).join(",")}`);
  });
  const ts = Date.now() - 1_000;
  const report = (agentId: string, metric = "cpu.usage"): IngestTask =>
    ({ type: "report-batch", batch: { agentId, timestampMs: ts, points: [{ metric, labels: { core: "0" }, value: 42.5, timestampMs: ts }] } });

  const results = await Promise.allSettled([
    pool.submit(report("web-1"), 1001).then(() => seen.push("stored web-1")),
    pool.submit(report("web-2", "not a metric!"), 1002),
    pool.submit(report("web-3"), 1003).then(() => seen.push("stored web-3")),
  ]);
  t.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
  t.deepEqual(seen, ["accepted web-1,web-3", "stored web-1", "stored web-3"], "one announcement for the batch, before the acknowledgements");
  t.deepEqual(accepted.map((r) => [r.agentId, [...r.samples!.values], [...r.samples!.timestamps]]),
    [["web-1", [42.5], [ts]], ["web-3", [42.5], [ts]]]);
  await until("two reports at the window", async () => (toWindow.length === 2 ? true : undefined), 10_000, async () => `${toWindow.length} arrived`);
  t.deepEqual(toWindow.map((r) => [r.agentId, r.times.arrivedAt, r.prevLastSeen, [...r.samples.values], [...r.samples.timestamps]]),
    [["web-1", 1001, 0, [42.5], [ts]], ["web-3", 1003, 0, [42.5], [ts]]], "the window gets the same reports, with their arrival times");
  t.true(toWindow.every((r) => r.times.acceptedAt > 0));

  // Each next report of web-1 is heard before its acknowledgement even though announcement
  // and reply travel on different ports (on the old code, a few of 1500 replies overtook
  // their announcement), and reaches the window with the last report the registry had
  // written by then (last_seen is written a moment after the ack: never ahead, never back).
  let late = 0;
  for (let i = 1; i <= 1500; i++) {
    accepted.length = 0;
    const at = ts + i * 10;
    const reply = pool.submit({ type: "report-batch", batch: { agentId: "web-1", timestampMs: at, points: [{ metric: "cpu.usage", labels: {}, value: i, timestampMs: at }] } });
    const busyUntil = Date.now() + (i % 3); // the main thread busy now and then, as under load
    while (Date.now() < busyUntil);
    await reply;
    if (accepted[0]?.samples?.values[0] !== i) late++;
  }
  t.is(late, 0, "reports acknowledged before they were announced");
  await until("every report at the window", async () => (toWindow.length === 1502 ? true : undefined), 10_000, async () => `${toWindow.length} arrived`);
  const prev = toWindow.slice(2).map((r) => r.prevLastSeen);
  t.true(prev.every((p, k) => p <= ts + k * 10 && p >= (prev[k - 1] ?? ts)), "behind the report before, and forward only");
  t.true(prev.at(-1)! > ts, "the registry moved while reports came");
  t.is(control.getAgent("web-1")!.last_seen, ts + 1500 * 10, "the main thread reads the latest at once");
});

test("while nobody watches live, reports are not announced (and acknowledged without waiting for it); the window still gets them", async (t) => {
  const { pool, toWindow } = startPool(t);
  const accepted: AcceptedReport[] = [];
  pool.onAccepted((reports) => accepted.push(...reports));
  const ts = Date.now() - 1_000;
  const report = (value: number): IngestTask =>
    ({ type: "report-batch", batch: { agentId: "quiet", timestampMs: ts + value, points: [{ metric: "cpu.usage", labels: {}, value, timestampMs: ts + value }] } });
  await pool.submit(report(1));
  pool.announceSamples(true);
  await pool.submit(report(2));
  pool.announceSamples(false);
  await pool.submit(report(3));
  t.deepEqual(accepted.map((r) => [r.agentId, r.samples && [...r.samples.values]]), [["quiet", [2]]]);
  await until("three reports at the window", async () => (toWindow.length === 3 ? true : undefined), 10_000);
  t.deepEqual(toWindow.map((r) => [...r.samples.values]), [[1], [2], [3]]);
});

test("a report's bytes move to the ingest thread rather than being copied; a stream's declaration and a shared buffer stay", async (t) => {
  const { pool } = startPool(t);
  const ts = Date.now() - 1_000;
  const points = Array.from({ length: 1_000 }, (_, i) => ({ metric: `m.${i}`, labels: {}, value: i, timestampMs: ts }));
  const bytes = new Uint8Array(encodeBatchProto({ agentId: "moved", timestampMs: ts, points }));
  const size = bytes.byteLength;
  const stored = await pool.submit({ type: "report-proto", bytes, auth: {} });
  t.is(stored.agentId, "moved");
  t.is(stored.points, 1_000);
  t.true(size > 0);
  t.is(bytes.byteLength, 0, "the main thread's view is detached: its memory went with the task");

  const frame = new Uint8Array(64), declaration = new Uint8Array(16), shared = new Uint8Array(256);
  const jobs = [
    { task: { type: "report-columns" as const, frame, declaration, auth: {} }, arrivedAt: 0, job: 1 },
    { task: { type: "report-proto" as const, bytes: shared.subarray(0, 100), auth: {} }, arrivedAt: 0, job: 2 },
  ];
  t.deepEqual(reportBuffers(jobs), [frame.buffer], "only a frame in a buffer of its own moves");
});
