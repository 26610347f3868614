import test from "ava";
import { down, up, type Check, type CheckResult } from "../agent/checks/check.ts";
import type { CheckDefinition } from "../agent/checks/definitions.ts";
import { CheckScheduler, MAX_TRACES, type SchedulerOptions } from "../agent/checks/scheduler.ts";
import { formatHops, hopOf, traceHost, traceroute, type TracerouteHop } from "../agent/checks/traceroute.ts";
import { FakeClock } from "./helpers/fake-clock.ts";

/* When the scheduler traces, and traceroute's pure parts; real paths: test/checks-netns.test.ts. */

const T0 = 1_700_000_000_000;

function def(name: string, traceroute_on_failure = true, target = "10.0.0.9"): CheckDefinition {
  return { name, type: "icmp", target, interval_secs: 1, timeout_ms: 500, traceroute_on_failure, label: target, options: {} };
}

/** A check whose outcomes follow `pattern` ("u" up, "d" down), then stays at its last. */
function scripted(pattern: string): Check {
  let i = 0;
  return { probe: async (): Promise<CheckResult> => (pattern[Math.min(i++, pattern.length - 1)] === "u" ? up({}) : down("timeout", "no answer")) };
}

function harness(checks: Array<[CheckDefinition, Check]>, tracer: SchedulerOptions["traceroute"]) {
  const clock = new FakeClock(T0);
  const traces: Array<{ name: string; hops: TracerouteHop[]; at: number }> = [];
  const failures: string[] = [];
  const scheduler = new CheckScheduler(checks.map(([definition, check]) => ({ definition, check })), {
    clock,
    onResult: () => undefined,
    onTraceroute: (d, hops, at) => traces.push({ name: d.name, hops, at: at - T0 }),
    onTracerouteFailed: (d, message) => failures.push(`${d.name}: ${message}`),
    traceroute: tracer,
  });
  return { clock, scheduler, traces, failures };
}

const PATH: TracerouteHop[] = [{ ttl: 1, address: "10.0.0.1", rttsMs: [1, 1, null] }];

test("a trace runs at each up → down, not at a first result that is down, nor while it stays down", async (t) => {
  const hosts: string[] = [];
  const h = harness([[def("a"), scripted("duuddud")], [def("quiet", false), scripted("ud")]], async (host) => { hosts.push(host); return PATH; });
  h.scheduler.start();
  await h.clock.advance(6_500);
  await h.scheduler.stop();
  t.deepEqual(h.traces.map((x) => [x.name, x.at]), [["a", 3000], ["a", 6000]]);
  t.deepEqual(hosts, ["10.0.0.9", "10.0.0.9"]);
  t.deepEqual(h.traces[0]!.hops, PATH);
});

test("a trace that fails is reported, not thrown; one that hangs is aborted by stop()", async (t) => {
  const h = harness([[def("a"), scripted("ud")]], async () => { throw new Error("no raw ICMP"); });
  h.scheduler.start();
  await h.clock.advance(1_500);
  await h.scheduler.stop();
  t.deepEqual(h.failures, ["a: no raw ICMP"]);
  let aborted = false;
  const hung = harness([[def("b"), scripted("ud")]], (_host, signal) => new Promise((resolve) => signal.addEventListener("abort", () => { aborted = true; resolve([]); })));
  hung.scheduler.start();
  await hung.clock.advance(1_500);
  await hung.scheduler.stop();
  t.true(aborted);
});

test(`at most ${MAX_TRACES} traces run at once; more checks going down together are not traced`, async (t) => {
  let running = 0;
  let most = 0;
  const checks = Array.from({ length: 5 }, (_, i): [CheckDefinition, Check] => [def(`c${i}`), scripted("ud")]);
  const h = harness(checks, (_host, signal) => {
    most = Math.max(most, ++running);
    return new Promise((resolve) => signal.addEventListener("abort", () => { running--; resolve([]); }));
  });
  h.scheduler.start();
  await h.clock.advance(1_900);
  t.is(most, MAX_TRACES);
  await h.scheduler.stop();
});

test("pure: the host a trace goes to, a hop from its probes, and the printed path", (t) => {
  t.is(traceHost("10.0.0.9"), "10.0.0.9");
  t.is(traceHost("https://example.com:8443/health"), "example.com");
  t.is(traceHost("http://[2001:db8::1]/"), "2001:db8::1");
  t.deepEqual(hopOf(2, [{ kind: "timeout" }, { kind: "time-exceeded", from: "10.0.1.1", rttMs: 4.5, code: 0 }, { kind: "timeout" }]), { ttl: 2, address: "10.0.1.1", rttsMs: [null, 4.5, null] });
  t.deepEqual(hopOf(3, [{ kind: "timeout" }, { kind: "timeout" }]), { ttl: 3, rttsMs: [null, null] });
  t.deepEqual(formatHops([{ ttl: 1, address: "10.0.0.1", rttsMs: [0.4, null] }, { ttl: 2, rttsMs: [null] }]), ["1  10.0.0.1  0.4 ms  *", "2  *  *"]);
});

test("traceroute without raw ICMP says why", async (t) => {
  await t.throwsAsync(traceroute("127.0.0.1", { socket: () => ({ unavailable: "this process may not open a raw ICMP socket" }) }), {
    message: "traceroute to 127.0.0.1: this process may not open a raw ICMP socket",
  });
});
