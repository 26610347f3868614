import test from "ava";
import type { WindowReport } from "../server/actors/protocol/messages.ts";
import { shardOf } from "../server/actors/runtime/shard-of.ts";
import { counterDelta, receiveWindowFeed, releaseHeld, WindowFeedSender, windowFeedCounters } from "../server/actors/window/window-feed.ts";
import { windowFeedSettings } from "../server/actors/protocol/window-feed-layout.ts";
import { until } from "./helpers/server.ts";

const written = Promise.resolve();

const report = (agentId: string, value: number): WindowReport => ({
  agentId, prevLastSeen: 0, times: { arrivedAt: 1, acceptedAt: 2 },
  samples: { series: "cpu.usage", timestamps: new Float64Array([1000]), values: new Float64Array([value]) },
});

test("each report reaches its agent's shard; two servers in one process do not hear each other", async (t) => {
  const settings = windowFeedSettings(2, 100);
  const other = windowFeedSettings(2, 100);
  const heard: string[][] = [[], []];
  const channels = [0, 1].map((shard) => receiveWindowFeed(settings, shard, (m) => { heard[shard]!.push(...m.reports.map((r) => r.agentId)); }));
  const strangers: string[] = [];
  const otherChannels = [0, 1].map((shard) => receiveWindowFeed(other, shard, (m) => { strangers.push(...m.reports.map((r) => r.agentId)); }));
  const sender = new WindowFeedSender(settings);
  t.teardown(() => [...channels, ...otherChannels, sender].forEach((c) => c.close()));

  const agents = Array.from({ length: 20 }, (_, i) => `host-${i}`);
  sender.send(agents.map((a, i) => report(a, i)), written);
  await until("20 reports heard", async () => (heard[0]!.length + heard[1]!.length === 20 ? true : undefined), 10_000);
  for (const shard of [0, 1]) t.deepEqual(heard[shard], agents.filter((a) => shardOf(a, 2) === shard));
  t.true(heard[0]!.length > 0 && heard[1]!.length > 0, "both shards got some");
  t.deepEqual(strangers, []);
  t.deepEqual(windowFeedCounters(settings, 0), { depth: 0, dropped: 0, handled: heard[0]!.length });
});

test("every ingest thread reaches the shard from its slot, also threads started past the ring's end (sharing a slot)", async (t) => {
  const settings = windowFeedSettings(1, 100, 1); // two slots
  const heard: string[] = [];
  const channel = receiveWindowFeed(settings, 0, (m) => { heard.push(...m.reports.map((r) => r.agentId)); });
  const senders = [0, 1, 2].map(() => new WindowFeedSender(settings)); // slots 0, 1, and 0 again
  t.teardown(() => { channel.close(); senders.forEach((s) => s.close()); });
  senders.forEach((s, i) => s.send([report(`thread-${i}`, i)], written));
  await until("three reports", async () => (heard.length === 3 ? true : undefined), 10_000);
  t.deepEqual(heard.sort(), ["thread-0", "thread-1", "thread-2"]);
});

test("a shard with maxDepth messages waiting gets no more: the rest are dropped and counted, and it takes reports again once it catches up", async (t) => {
  const settings = windowFeedSettings(1, 3);
  const heard: number[] = [];
  const channel = receiveWindowFeed(settings, 0, (m) => { heard.push(...m.reports.map((r) => r.samples.values[0]!)); });
  const sender = new WindowFeedSender(settings);
  t.teardown(() => { channel.close(); sender.close(); });

  // Sent in one synchronous run: the shard (this thread) takes none of them meanwhile.
  for (let i = 0; i < 5; i++) sender.send([report("web-1", i * 10), report("web-1", i * 10 + 1)], written);
  t.deepEqual(windowFeedCounters(settings, 0), { depth: 3, dropped: 4, handled: 0 });
  await until("three messages taken", async () => (heard.length === 6 ? true : undefined), 10_000);
  t.deepEqual(heard, [0, 1, 10, 11, 20, 21], "the first three messages, in order");

  sender.send([report("web-1", 99)], written);
  await until("the next report", async () => (heard.length === 7 ? true : undefined), 10_000);
  t.deepEqual(windowFeedCounters(settings, 0), { depth: 0, dropped: 4, handled: 7 });
});

test("a restarted shard starts from an empty mailbox: what its dead thread never took does not block the new one", async (t) => {
  const settings = windowFeedSettings(1, 2);
  const sender = new WindowFeedSender(settings);
  t.teardown(() => sender.close());
  // No shard listening: the messages go nowhere, but count as waiting.
  sender.send([report("web-1", 1)], written);
  sender.send([report("web-1", 2)], written);
  t.is(windowFeedCounters(settings, 0).depth, 2);

  const heard: number[] = [];
  const channel = receiveWindowFeed(settings, 0, (m) => { heard.push(...m.reports.map((r) => r.samples.values[0]!)); });
  t.teardown(() => channel.close());
  t.is(windowFeedCounters(settings, 0).depth, 0);
  sender.send([report("web-1", 3)], written);
  await until("the report after the restart", async () => (heard.length === 1 ? true : undefined), 10_000);
  t.deepEqual(heard, [3]);
});

test("messages a shard holds (not ready yet) still count as waiting, so held and in-flight ones stay within maxDepth", async (t) => {
  const settings = windowFeedSettings(1, 2);
  const held: number[] = [];
  const channel = receiveWindowFeed(settings, 0, (m) => {
    held.push(...m.reports.map((r) => r.samples.values[0]!));
    return true;
  });
  const sender = new WindowFeedSender(settings);
  t.teardown(() => { channel.close(); sender.close(); });

  sender.send([report("web-1", 1)], written);
  sender.send([report("web-1", 2)], written);
  await until("both held", async () => (held.length === 2 ? true : undefined), 10_000);
  t.is(windowFeedCounters(settings, 0).depth, 2, "held, so still waiting");
  sender.send([report("web-1", 3)], written);
  t.like(windowFeedCounters(settings, 0), { depth: 2, dropped: 1 }, "no room while two are held");

  releaseHeld(settings, 0, 2); // the shard became ready and applied them
  t.is(windowFeedCounters(settings, 0).depth, 0);
  sender.send([report("web-1", 4)], written);
  await until("the next one", async () => (held.length === 3 ? true : undefined), 10_000);
  t.deepEqual(held, [1, 2, 4]);
});

test("totals that wrap at 2^32 still give the right difference", (t) => {
  t.is(counterDelta(5, 2 ** 32 - 3), 8);
  t.is(counterDelta(10, 4), 6);
});

test("a batch crosses the channel whole: every report's agent, series, times, timestamps and values, reports of different sizes side by side", async (t) => {
  const settings = windowFeedSettings(1, 100);
  const heard: WindowReport[] = [];
  const channel = receiveWindowFeed(settings, 0, (m) => { heard.push(...m.reports); });
  const sender = new WindowFeedSender(settings);
  t.teardown(() => { channel.close(); sender.close(); });

  const sent: WindowReport[] = [
    { agentId: "a", prevLastSeen: 1_700_000_000_000, times: { arrivedAt: 10.25, acceptedAt: 11.5 },
      samples: { series: "cpu.usage\nmemory.used", timestamps: new Float64Array([1_700_000_010_000, 1_700_000_010_001]), values: new Float64Array([12.34, -0]) } },
    { agentId: "b", prevLastSeen: 0, times: { arrivedAt: 1, acceptedAt: 2 }, samples: { series: "", timestamps: new Float64Array(0), values: new Float64Array(0) } },
    { agentId: "c", prevLastSeen: 5, times: { arrivedAt: 3, acceptedAt: 4 },
      samples: { series: "load.1", timestamps: new Float64Array([7]), values: new Float64Array([Number.MAX_VALUE]) } },
  ];
  sender.send(sent, written);
  await until("3 reports heard", async () => (heard.length === 3 ? true : undefined), 10_000);
  t.deepEqual(heard.map((r) => ({ ...r, samples: { ...r.samples, timestamps: [...r.samples.timestamps], values: [...r.samples.values] } })),
    sent.map((r) => ({ ...r, samples: { ...r.samples, timestamps: [...r.samples.timestamps], values: [...r.samples.values] } })));
  t.true(Object.is(heard[0]!.samples.values[1], -0), "-0 stays -0");
});
