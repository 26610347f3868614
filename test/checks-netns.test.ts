import test from "ava";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { CheckResult } from "../agent/checks/check.ts";
import type { TracerouteHop } from "../agent/checks/traceroute.ts";
import { buildChain, netnsAvailable, runInNetns, type Chain } from "./helpers/netns.ts";
import { spawnAgent, waitForLog } from "./helpers/netns-agent.ts";

/*
 * Checks over a real routed path: agent — router1 — router2 — target, each in its own
 * network namespace (test/helpers/netns.ts), with delay and loss on the router1 — router2
 * link. Needs root (iproute2's `ip netns`); skipped, saying so, without it.
 */

const unavailable = netnsAvailable();
if (unavailable) console.warn(`SKIPPED test/checks-netns.test.ts: ${unavailable} (apt-get install iproute2, and run as root)`);
const netnsTest = unavailable ? test.skip : test.serial;
const dir = mkdtempSync(path.join(os.tmpdir(), "tsmon-checks-netns-"));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** One-way delay on the relayed link; the round trip crosses it twice. */
const DELAY_MS = 20;

async function withChain(shape: Parameters<typeof buildChain>[0], body: (chain: Chain) => Promise<void>): Promise<void> {
  const chain = await buildChain(shape);
  try {
    await body(chain);
  } finally {
    await chain.netns.close();
  }
}

netnsTest("icmp: the average round trip is the injected delay (2 × one-way) within ±2 ms, with no loss", async (t) => {
  await withChain({ delayMs: DELAY_MS, loss: 0 }, async (chain) => {
    // The test machine is shared and loaded; real-time priority keeps the measuring process
    // from being descheduled while a reply waits, which would add the host's load to the path's delay.
    const result = await runInNetns<CheckResult>(chain.netns, chain.ns.agent, {
      check: { name: "p", type: "icmp", target: chain.target, count: 200, probe_interval_ms: 10, timeout_ms: 5000, interval_secs: 10 },
    }, { realtime: true });
    t.true(result.up);
    t.is(result.figures.loss_percent, 0);
    const rtt = result.figures.rtt_ms!;
    t.true(Math.abs(rtt - 2 * DELAY_MS) <= 2, `avg rtt ${rtt} ms, expected ${2 * DELAY_MS} ± 2 (${JSON.stringify(result.figures)})`);
    t.true(result.figures.rtt_min_ms! >= 2 * DELAY_MS, "no reply can beat the relay's hold");
  });
});

netnsTest("icmp: loss is the injected fraction within binomial bounds (4.5 σ)", async (t) => {
  const loss = 0.2;
  const count = 400;
  await withChain({ delayMs: 1, loss }, async (chain) => {
    const result = await runInNetns<CheckResult>(chain.netns, chain.ns.agent, {
      check: { name: "p", type: "icmp", target: chain.target, count, probe_interval_ms: 10, timeout_ms: 8000, interval_secs: 10 },
    }, { realtime: true });
    // Lost of 400 at p = 0.2: mean 80, σ = √(400 · 0.2 · 0.8) = 8; 4.5 σ = 36 → 44…116 → 11 %…29 %.
    const sigma = Math.sqrt(count * loss * (1 - loss));
    const [low, high] = [(count * loss - 4.5 * sigma) / count * 100, (count * loss + 4.5 * sigma) / count * 100];
    const measured = result.figures.loss_percent!;
    t.true(measured >= low && measured <= high, `loss ${measured} %, expected ${loss * 100} % within [${low}, ${high}]`);
    t.true(result.up);
  });
});

netnsTest("traceroute: router1, router2, then the target, in order, each probe with its round trip", async (t) => {
  await withChain({ delayMs: DELAY_MS, loss: 0 }, async (chain) => {
    const hops = await runInNetns<TracerouteHop[]>(chain.netns, chain.ns.agent, { traceroute: chain.target }, { realtime: true });
    t.deepEqual(hops.map((h) => [h.ttl, h.address]), [[1, chain.hops[0]], [2, chain.hops[1]], [3, chain.hops[2]]]);
    t.true(hops.every((h) => h.rttsMs.length === 3 && h.rttsMs.every((r) => r !== null)), JSON.stringify(hops));
    t.true(hops[1]!.rttsMs.every((r) => r! >= 2 * DELAY_MS), "router2 is behind the delayed link");
    // Cut off behind router2: it answers "unreachable", and the trace ends there.
    await chain.netns.exec(chain.ns.router2, "ip", "link", "set", chain.router2ToTarget, "down");
    const cut = await runInNetns<TracerouteHop[]>(chain.netns, chain.ns.agent, { traceroute: chain.target }, { realtime: true });
    t.true(endsAtRouter2(cut, chain), JSON.stringify(cut));
  });
});

netnsTest("tcp: a refused port and a blackholed address are down for distinct reasons", async (t) => {
  await withChain(undefined, async (chain) => {
    await chain.netns.exec(chain.ns.router1, "ip", "route", "add", "blackhole", "10.91.9.9/32");
    const refused = await runInNetns<CheckResult>(chain.netns, chain.ns.agent, { check: { name: "c", type: "tcp", target: chain.target, port: 5432, timeout_ms: 2000 } }, { realtime: true });
    t.like(refused, { up: false, reason: { code: "refused" } });
    const blackholed = await runInNetns<CheckResult>(chain.netns, chain.ns.agent, { check: { name: "c", type: "tcp", target: "10.91.9.9", port: 5432, timeout_ms: 1000 } }, { realtime: true });
    t.like(blackholed, { up: false, reason: { code: "timeout" } });
    t.regex(blackholed.reason!.message, /10\.91\.9\.9:5432.*1000 ms/);
  });
});

/**
 * A path cut behind router2: router1 first, router2 the last to answer, nothing after it.
 * Router2 may leave a hop as `*`: with no route to the target it answers "unreachable", and
 * the kernel rate-limits those (route.error_cost/error_burst: a burst of 5, then 1 a second).
 */
function endsAtRouter2(hops: readonly TracerouteHop[], chain: Chain): boolean {
  const answered = hops.filter((h) => h.address !== undefined).map((h) => h.address);
  return hops.length <= 3 && answered[0] === chain.hops[0] && answered.at(-1) === chain.hops[1] && answered.every((a) => a === chain.hops[0] || a === chain.hops[1]);
}

netnsTest("the real agent traces the path once when its icmp check goes from up to down", async (t) => {
  await withChain(undefined, async (chain) => {
    const configFile = path.join(dir, "agent.toml");
    writeFileSync(configFile, `
agent_id = "netns-agent"
server_endpoint = "127.0.0.1:1"
spool_dir = "${path.join(dir, "spool")}"

[[checks]]
name = "target"
type = "icmp"
target = "${chain.target}"
interval_secs = 1
timeout_ms = 800
count = 3
probe_interval_ms = 100
`);
    // Down from the start (no transition, no trace), then up, then cut off: one trace.
    const cut = (state: "down" | "up") => chain.netns.exec(chain.ns.router2, "ip", "link", "set", chain.router2ToTarget, state);
    await cut("down");
    const agent = spawnAgent(chain.netns, chain.ns.agent, configFile, { realtime: true });
    try {
      await waitForLog(agent, /^check target is down/, 1, "the first (down) result");
      await cut("up");
      await waitForLog(agent, /^check target is up again/, 1, "the check coming up");
      await cut("down");
      await waitForLog(agent, /^traceroute for check target/, 1, "the traceroute");
      const trace = agent.lines().find((l) => /^traceroute for check target/.test(l.msg))!;
      t.true(endsAtRouter2(trace.hops!, chain), `the path ends at router2, which lost the target: ${JSON.stringify(trace.hops)}`);
      t.regex(trace.msg, /last answer from 10\.91\.2\.2/);
      // Three more rounds down: no more traces.
      await new Promise((r) => setTimeout(r, 3000));
      t.is(agent.lines().filter((l) => /^traceroute for check/.test(l.msg)).length, 1);
      t.is(agent.lines().filter((l) => /^check target is down/.test(l.msg)).length, 2);
    } finally {
      await agent.stop();
    }
  });
});
