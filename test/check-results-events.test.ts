import test from "ava";
import { pino } from "pino";
import { down, up } from "../agent/checks/check.ts";
import type { CheckDefinition } from "../agent/checks/definitions.ts";
import { CheckResults, MAX_PENDING_EVENTS } from "../agent/checks/results.ts";

const DEF: CheckDefinition = { name: "db", type: "tcp", target: "db", interval_secs: 30, timeout_ms: 5000, label: "db:5432", options: {}, traceroute_on_failure: false };
const silent = () => pino({ level: "silent" });

test("events: the first result, going down with its reason, coming back; steady results are no news", (t) => {
  const results = new CheckResults(silent());
  results.record(DEF, up({ rtt_ms: 1 }), 1000);
  results.record(DEF, up({ rtt_ms: 2 }), 2000);
  results.record(DEF, down("refused", "connect to db:5432: ECONNREFUSED"), 3000);
  results.record(DEF, down("timeout", "no answer"), 4000);
  results.record(DEF, { ...up({ rtt_ms: 1 }), detail: "back" }, 5000);
  t.deepEqual(results.drainEvents(), [
    { check: "db", type: "tcp", target: "db:5432", timestampMs: 1000, kind: "first", up: true },
    { check: "db", type: "tcp", target: "db:5432", timestampMs: 3000, kind: "down", up: false, reasonCode: "refused", reasonMessage: "connect to db:5432: ECONNREFUSED" },
    { check: "db", type: "tcp", target: "db:5432", timestampMs: 5000, kind: "up", up: true, detail: "back" },
  ]);
  t.deepEqual(results.drainEvents(), [], "handed out once");
});

test("a first result that is down carries its reason", (t) => {
  const results = new CheckResults(silent());
  results.record(DEF, down("dns", "name did not resolve"), 1000);
  t.like(results.drainEvents()[0], { kind: "first", up: false, reasonCode: "dns", reasonMessage: "name did not resolve" });
});

test("recordTraceroute: a traceroute event with the hops (timeouts as null), the check's state, logged with the last answering hop", (t) => {
  const lines: { msg: string; lastHop?: string }[] = [];
  const results = new CheckResults(pino({ level: "info" }, { write: (line: string) => { lines.push(JSON.parse(line)); } }));
  results.record(DEF, down("timeout", "no answer"), 1000);
  const hops = [{ ttl: 1, address: "10.0.0.1", rttsMs: [0.3, null] }, { ttl: 2, rttsMs: [null, null] }];
  results.recordTraceroute(DEF, hops, 1500);
  hops[0]!.rttsMs[0] = 99; // the caller's array is not kept
  const [, trace] = results.drainEvents();
  t.deepEqual(trace, { check: "db", type: "tcp", target: "db:5432", timestampMs: 1500, kind: "traceroute", up: false,
    hops: [{ ttl: 1, address: "10.0.0.1", rttsMs: [0.3, null] }, { ttl: 2, rttsMs: [null, null] }] });
  t.is(lines.at(-1)!.lastHop, "10.0.0.1");
});

test("events waiting are bounded: the oldest go first, and the loss is logged", (t) => {
  const lines: { msg: string }[] = [];
  const results = new CheckResults(pino({ level: "info" }, { write: (line: string) => { lines.push(JSON.parse(line)); } }));
  for (let i = 0; i < MAX_PENDING_EVENTS + 10; i++) results.record(DEF, i % 2 ? up({}) : down("refused", "no"), i + 1);
  const events = results.drainEvents();
  t.is(events.length, MAX_PENDING_EVENTS);
  t.is(events[0]!.timestampMs, 11, "the 10 oldest were dropped");
  t.true(lines.some((l) => /check events waited for a report: dropped the oldest/.test(l.msg)));
});
