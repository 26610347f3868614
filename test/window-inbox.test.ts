import test, { type ExecutionContext } from "ava";
import type { StoredPoint } from "../server/storage/metric-store.ts";
import type { WindowFeedMessage, WindowReport } from "../server/actors/protocol/messages.ts";
import type { AlertRule } from "../server/alerts/types.ts";
import { AgentWindow } from "../server/actors/window/window.ts";
import { receiveWindowFeed, WindowFeedSender, windowFeedCounters } from "../server/actors/window/window-feed.ts";
import { windowFeedSettings } from "../server/actors/protocol/window-feed-layout.ts";
import { WindowInbox } from "../server/actors/window/window-inbox.ts";
import { toSeriesText } from "../common/series-text.ts";
import { until } from "./helpers/server.ts";

const fireAbove90: AlertRule = {
  id: "r1", name: "high-cpu", type: "threshold", metric: "cpu.usage", agent_pattern: "*", labels: {},
  severity: "critical", silence_secs: 0, enabled: true, operator: "greater_than", value: 90, duration_secs: 0, source: "api",
};

/**
 * A shard's inbox and window on a real feed. The registry's last_seen stays at the first
 * report (as between its 0.2 s flushes), so only the drop count can tell of a dropped one.
 */
function shard(t: ExecutionContext, maxDepth: number, warn: (msg: string) => void = () => {}) {
  const feed = windowFeedSettings(1, maxDepth);
  const storage: { tsMs: number; points: StoredPoint[] }[] = [];
  const window = new AgentWindow({
    readHistory: (_agent, from, to) => storage.filter((r) => r.tsMs >= from && r.tsMs <= to),
    now: () => 1_000_000, rebuildHorizonMs: 600_000,
  });
  window.handle({ type: "rules", rules: [fireAbove90] });
  const states: string[] = [];
  let ready = false;
  const inbox = new WindowInbox({
    feed, shard: 0, ready: () => ready,
    // As the shard's thread does (window.worker.ts).
    apply: ({ reports, droppedBefore }: WindowFeedMessage) => {
      for (const r of reports) states.push(...window.handle({ ...r, type: "samples", droppedBefore }).observations.map((o) => o.target.state));
    },
    log: (_level, msg) => warn(msg),
  });
  const channel = receiveWindowFeed(feed, 0, (m) => inbox.take(m));
  const sender = new WindowFeedSender(feed);
  t.teardown(() => { channel.close(); sender.close(); });
  /** Sends one report to the shard as an ingest thread does; it is in storage once `stored` resolves. */
  const send = (ts: number, value: number, stored: Promise<void> = Promise.resolve()) => {
    void stored.then(() => storage.push({ tsMs: ts, points: [{ metric: "cpu.usage", labels: {}, value }] }));
    const report: WindowReport = {
      agentId: "web-1", prevLastSeen: 900_000, times: { arrivedAt: 0, acceptedAt: 0 },
      samples: { series: toSeriesText([["cpu.usage", {}]]), timestamps: new Float64Array([ts]), values: new Float64Array([value]) },
    };
    sender.send([report], stored);
  };
  const settle = (what: string, n: number) => until(what, async () => (states.length === n ? true : undefined), 10_000);
  return { feed, states, send, settle, setReady: () => { ready = true; inbox.release(); } };
}

test("a report dropped at a full mailbox reaches the rules through storage with the agent's next report, after its write settles", async (t) => {
  const s = shard(t, 1);
  s.setReady();
  let commit!: () => void;
  s.send(900_000, 40);
  s.send(910_000, 95, new Promise((resolve) => { commit = resolve; })); // one message already waits: dropped, its write still going
  t.like(windowFeedCounters(s.feed, 0), { dropped: 1 });
  await s.settle("the first report applied", 1);
  s.send(920_000, 40);
  await new Promise((r) => setTimeout(r, 200));
  t.deepEqual(s.states, ["inactive"], "the next report waits for the dropped one's write");
  commit();
  await s.settle("the breach read back, then the recovery", 3);
  t.deepEqual(s.states, ["inactive", "firing", "inactive"]);
  t.like(windowFeedCounters(s.feed, 0), { depth: 0 });
});

test("reports dropped while the shard waits for its wiring are read back with each agent's next report, not taken by a held one", async (t) => {
  const s = shard(t, 2);
  s.send(900_000, 40);
  s.send(905_000, 50);
  await until("both held", async () => (windowFeedCounters(s.feed, 0).handled === 2 ? true : undefined), 10_000);
  s.send(910_000, 95); // two held: no room
  t.like(windowFeedCounters(s.feed, 0), { dropped: 1, depth: 2 });
  s.setReady();
  t.deepEqual(s.states, ["inactive"], "the held reports, applied in order");
  s.send(920_000, 40);
  await s.settle("the breach read back, then the recovery", 3);
  t.deepEqual(s.states, ["inactive", "firing", "inactive"]);
  t.like(windowFeedCounters(s.feed, 0), { depth: 0 });
});

test("drops count as stored in the order they were dropped: a later drop's write settling first does not let a message skip an earlier one", async (t) => {
  const s = shard(t, 1);
  s.setReady();
  let commitFirst!: () => void, commitSecond!: () => void;
  s.send(900_000, 40);
  s.send(910_000, 95, new Promise((resolve) => { commitFirst = resolve; })); // dropped: one waits
  await s.settle("the first report applied", 1);
  s.send(920_000, 40); // stamped with the first drop
  s.send(930_000, 40, new Promise((resolve) => { commitSecond = resolve; })); // dropped too
  commitSecond();
  await new Promise((r) => setTimeout(r, 200));
  t.deepEqual(s.states, ["inactive"], "still waiting for the first drop's write");
  commitFirst();
  await s.settle("the breach read back, then the recovery", 3);
  t.deepEqual(s.states, ["inactive", "firing", "inactive"]);
});

test("a dropped report whose write never settles holds the window for a second, not for ever", async (t) => {
  const warnings: string[] = [];
  const s = shard(t, 1, (msg) => warnings.push(msg));
  s.setReady();
  s.send(900_000, 40);
  s.send(910_000, 95, new Promise(() => {})); // its ingest thread died mid-write
  await s.settle("the first report applied", 1);
  const sent = Date.now();
  s.send(920_000, 96);
  await s.settle("the next report, after the wait", 2);
  t.true(Date.now() - sent >= 1_000, "it waited the second out");
  t.deepEqual(s.states, ["inactive", "firing"]);
  t.is(warnings.length, 1);
  s.send(930_000, 40);
  await s.settle("later reports", 3);
  t.is(warnings.length, 1, "no second wait: the lost write is not waited for again");
  t.is(windowFeedCounters(s.feed, 0).depth, 0);
});
