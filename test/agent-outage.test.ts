import test, { type ExecutionContext } from "ava";
import { setTimeout as sleep } from "node:timers/promises";
import { Writable } from "node:stream";
import { pino } from "pino";
import { startAgent } from "../agent/agent.ts";
import type { Collector } from "../agent/collectors/collector.ts";
import { buildAgentConfig } from "../agent/config.ts";
import { FakeReceiver, type ReceivedCall } from "./helpers/fake-receiver.ts";

/*
 * The agent's buffer across a real outage: the receiver is shut down for 30 s of real
 * time while the agent keeps collecting every 0.5 s, then comes back on the same port.
 * Both scenarios run at the same time, so the file takes about 35 s.
 */

const OUTAGE_MS = 30_000;
const INTERVAL_SECS = 0.5;

function sequenceCollector(): Collector {
  let n = 0;
  return { name: "seq", collect: (now) => [{ timestampMs: now, metric: "test.seq", value: ++n, labels: {} }] };
}

const seqOf = (call: ReceivedCall) => call.batch.data_points[0]!.value;

/** Runs an agent through an outage; returns what the receiver saw and what the agent says. */
async function throughOutage(t: ExecutionContext, bufferSize: number) {
  const receiver = await FakeReceiver.start();
  const logs: { level: number; msg: string; [k: string]: unknown }[] = [];
  const logStream = new Writable({ write(chunk, _enc, done) { logs.push(JSON.parse(String(chunk))); done(); } });
  const config = buildAgentConfig({ agent_id: `outage-${bufferSize}` }, { "server-url": receiver.address, interval: INTERVAL_SECS, "buffer-size": bufferSize });
  const agent = await startAgent(config, { memoryQueue: true, collectors: [sequenceCollector()], systemInfo: null, logger: pino({ level: "info" }, logStream) });
  t.teardown(async () => {
    await agent.stop();
    await receiver.stop();
  });

  await receiver.waitFor(() => receiver.accepted.length >= 3, 15_000, "3 batches before the outage");
  await receiver.stop();
  const collectedAtOutage = agent.stats().collected;
  await sleep(OUTAGE_MS);
  const collectedDuringOutage = agent.stats().collected - collectedAtOutage;
  const callsBeforeRestart = receiver.calls.length;
  await receiver.restart();
  // Back: everything still buffered goes out, and at least one fresh batch after it.
  await receiver.waitFor(() => agent.stats().buffered === 0 && receiver.calls.length > callsBeforeRestart + 1, 30_000, "the buffer to drain");
  await agent.stop();
  return { receiver, agent, stats: agent.stats(), logs, callsBeforeRestart, collectedDuringOutage };
}

test("a buffer large enough for the outage delivers every batch, in order", async (t) => {
  const { receiver, stats, collectedDuringOutage } = await throughOutage(t, 1000);
  t.true(collectedDuringOutage >= 40, `collected ${collectedDuringOutage} batches during the outage`);
  t.true(stats.failures > 0);
  t.like(stats, { dropped: 0, buffered: 0, sent: stats.collected });

  // A batch in flight when the server died may arrive twice (the server stores it once).
  const seqs = receiver.accepted.map(seqOf).filter((s, i, all) => all.indexOf(s) === i);
  t.deepEqual(seqs, Array.from({ length: stats.collected }, (_, i) => i + 1), "every batch, in collection order");
  const timestamps = receiver.accepted.map((c) => c.batch.timestamp_ms);
  t.deepEqual(timestamps, [...timestamps].sort((a, b) => a - b));
  t.true(receiver.accepted.every((c) => c.batch.dropped_batches === 0));
});

test("a small buffer drops the oldest, counts them, and the next accepted batch reports the count", async (t) => {
  const bufferSize = 5;
  const { receiver, stats, logs, callsBeforeRestart, collectedDuringOutage } = await throughOutage(t, bufferSize);
  t.true(collectedDuringOutage > bufferSize * 3, `collected ${collectedDuringOutage} batches during the outage`);

  const seqs = receiver.accepted.map(seqOf).filter((s, i, all) => all.indexOf(s) === i);
  t.deepEqual(seqs, [...seqs].sort((a, b) => a - b), "what arrives arrives in order");
  const all = Array.from({ length: stats.collected }, (_, i) => i + 1);
  const missing = all.filter((s) => !seqs.includes(s));
  t.true(missing.length > 0);
  t.is(stats.dropped, missing.length, "every missing batch was counted as dropped");
  t.is(seqs.length + stats.dropped, stats.collected);
  // Oldest first: the lost batches are one run, with the survivors of the buffer after it.
  t.deepEqual(missing, Array.from({ length: missing.length }, (_, i) => missing[0]! + i), "one contiguous run of the oldest");
  const lastBeforeOutage = Math.max(...receiver.calls.slice(0, callsBeforeRestart).filter((c) => c.answered === 0).map(seqOf));
  t.is(missing[0], lastBeforeOutage + 1, "the first batch of the outage was the first dropped");
  const survivors = seqs.filter((s) => s > missing.at(-1)!);
  t.true(survivors.length >= bufferSize, "the newest batches of the outage survived");

  const afterRestart = receiver.calls.slice(callsBeforeRestart).filter((c) => c.answered === 0);
  t.is(afterRestart[0]!.batch.dropped_batches, missing.length, "the first accepted batch carries dropped_batches");
  const later = afterRestart.slice(1).filter((c) => seqOf(c) !== seqOf(afterRestart[0]!));
  t.true(later.every((c) => c.batch.dropped_batches === 0), "the count is reported once");

  t.is(logs.filter((l) => l.msg === "buffer full: dropped the oldest batch").length, missing.length, "every drop is logged");
  t.true(logs.some((l) => l.msg === "reported dropped batches to the server" && l.droppedBatches === missing.length));
  t.true(logs.some((l) => l.msg === "server accepts reports again"));
});
