import test from "ava";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildFleet, netnsAvailable, type Fleet } from "./helpers/netns.ts";
import { spawnAgent, type NetnsAgent } from "./helpers/netns-agent.ts";
import { adminFetch, getJson, startTestServer, until, type TestServer } from "./helpers/server.ts";

/*
 * k of n on a real network: three real agents (agent/main.ts), each in a namespace of its
 * own with its own link to the target's namespace, report over gRPC to a real server on
 * the host (reached over a switch namespace, test/helpers/netns.ts buildFleet). They run
 * one server-managed icmp check; a reachability rule with k = 2 comes through the REST
 * API. Cutting an agent's link to the target (its path to the server stays) turns its
 * check down. Every wait polls a condition; a failure shows what the server saw and the agents' logs.
 */

const unavailable = netnsAvailable();
if (unavailable) console.warn(`SKIPPED test/reachability-kofn-netns.test.ts: ${unavailable} (apt-get install iproute2, and run as root)`);
const netnsTest = unavailable ? test.skip : test.serial;

const CHECK = "kofn-target";
const DURATION_SECS = 2;
const AGENT_IDS = ["kofn-1", "kofn-2", "kofn-3"];

interface UpPoint { ts: number; value: number }

/** Each agent's check.up points for the check since `fromMs`, read through /v1/checks/:id/results. */
async function upSeries(server: TestServer, fromMs: number): Promise<Map<string, UpPoint[]>> {
  const { status, body } = await getJson(`${server.http}/v1/checks/${CHECK}/results?from=${fromMs}`);
  if (status !== 200) throw new Error(`check results: ${status} ${JSON.stringify(body)}`);
  const series = new Map<string, UpPoint[]>(AGENT_IDS.map((id) => [id, []]));
  for (const agent of body.agents as { agent_id: string; series: { metric_name: string; timestamps: number[]; values: number[] }[] }[]) {
    const up = agent.series.find((s) => s.metric_name === "check.up");
    if (up) series.set(agent.agent_id, up.timestamps.map((ts, i) => ({ ts, value: up.values[i]! })));
  }
  return series;
}

/** The first time since `fromMs` the agent's check was down, once it has stayed down past the rule's duration and a round more. */
function heldDown(points: readonly UpPoint[], fromMs: number): number | undefined {
  const since = points.filter((p) => p.ts >= fromMs);
  const firstDown = since.findIndex((p) => p.value === 0);
  if (firstDown < 0) return undefined;
  const run = since.slice(firstDown);
  const end = run.findIndex((p) => p.value !== 0);
  const down = end < 0 ? run : run.slice(0, end);
  return down.at(-1)!.ts >= down[0]!.ts + (DURATION_SECS + 1) * 1000 ? down[0]!.ts : undefined;
}

/** Whether the agent's check was up at or after `ms`. */
function upAfter(points: readonly UpPoint[], ms: number): boolean {
  return points.some((p) => p.ts >= ms && p.value === 1);
}

function agentConfig(server: TestServer, dir: string, i: number): string {
  const file = path.join(dir, `agent-${i}.toml`);
  writeFileSync(file, [
    `agent_id = "${AGENT_IDS[i]}"`,
    `server_endpoint = "grpc://${server.grpc}"`,
    `state_dir = "${path.join(dir, `state-${i}`)}"`,
    // Check results ride in the next report: one a second keeps the rounds apart.
    `collection_interval_secs = 1`,
  ].join("\n"));
  return file;
}

netnsTest("k = 2 of 3 real agents: one cut off raises nothing, two raise one alert naming both, healing resolves it", async (t) => {
  // Past AVA's 120 s: the waits below (60 + 3 × 30 s at most) must fail first, with the agents' logs.
  t.timeout(200_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), "tsmon-kofn-netns-"));
  let fleet: Fleet | undefined;
  let server: TestServer | undefined;
  const agents: NetnsAgent[] = [];
  let failed = false;
  const logs = () => agents.map((a, i) => `--- ${AGENT_IDS[i]}:\n${a.output()}`).join("\n");
  try {
    fleet = await buildFleet(AGENT_IDS.length);
    server = await startTestServer({ bind_address: fleet.serverAddress, actors: { ingest_threads: 1, window_shards: 2, evaluator_shards: 2 } });
    const post = async (route: string, body: object) => {
      const res = await adminFetch(`${server!.http}${route}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      const reply = await res.json();
      if (res.status !== 201) throw new Error(`POST ${route}: ${res.status} ${JSON.stringify(reply)}`);
      return reply;
    };
    // A round of 3 echoes has 1.5 s for its answers: one late reply on a loaded host keeps the check up.
    await post("/v1/checks", { name: CHECK, type: "icmp", target: fleet.target, interval_secs: 2, timeout_ms: 1500, count: 3, probe_interval_ms: 100 });
    const rule = await post("/v1/alerts/rules", { name: "kofn-unreachable", type: "reachability", check: CHECK, min_failing_agents: 2, duration_secs: DURATION_SECS, severity: "critical" });

    const startedAt = Date.now();
    for (let i = 0; i < AGENT_IDS.length; i++) agents.push(spawnAgent(fleet.netns, fleet!.agents[i]!.ns, agentConfig(server, dir, i)));
    // The agents' logs follow in the test's log (finally below).
    const explain = async () => `check.up per agent: ${JSON.stringify([...(await upSeries(server!, startedAt)).entries()])}`;
    const history = async () => (await getJson(`${server!.http}/v1/alerts/history?rule=${rule.id}`)).body;
    const active = async () => ((await getJson(`${server!.http}/v1/alerts/active`)).body as { rule_id: string }[]).filter((a) => a.rule_id === rule.id);

    await until("every agent's check up", async () => {
      const series = await upSeries(server!, startedAt);
      return AGENT_IDS.every((id) => upAfter(series.get(id)!, startedAt)) || undefined;
    }, 60_000, explain);

    // One agent cut off, held down past the rule's duration while the others stay up: no alert.
    const firstCutAt = Date.now();
    await fleet.agents[0]!.cut();
    await until("kofn-1 down past the rule's duration, the others up after it", async () => {
      const series = await upSeries(server!, firstCutAt);
      const since = heldDown(series.get("kofn-1")!, firstCutAt);
      if (since === undefined) return undefined;
      const after = since + (DURATION_SECS + 1) * 1000;
      return upAfter(series.get("kofn-2")!, after) && upAfter(series.get("kofn-3")!, after) ? since : undefined;
    }, 30_000, explain);
    t.deepEqual(await active(), [], "one failing agent of three is fewer than k = 2");
    t.is((await history()).total, 0);

    // A second one cut off: one alert, naming both.
    const secondCutAt = Date.now();
    await fleet.agents[1]!.cut();
    const firing = await until("the alert firing", async () => {
      const now = await active();
      return now.length ? now : undefined;
    }, 30_000, explain);
    t.is(firing.length, 1, "one alert for the rule, not one per agent");
    const fired = await history();
    t.is(fired.total, 1, "nothing fired while only kofn-1 was cut off");
    const event = fired.events[0];
    t.like(event, { status: "firing", agent_id: "*", metric: "check.up", labels: { check: CHECK }, value: 2, threshold: 2, severity: "critical" });
    // The alert's time is its newest vote's: kofn-2's after its cut.
    t.true(Date.parse(event.fired_at) >= secondCutAt, `fired at ${event.fired_at}, before the second cut (${new Date(secondCutAt).toISOString()})`);
    // Each named with its reason: the cut link leaves it no route to the target.
    const target = fleet.target.replaceAll(".", "\\.");
    const reason = `\\(unreachable: ping ${target}: no answer to 3 of 3 probes; last: [^)]*Network is unreachable[^)]*\\)`;
    t.regex(event.message, new RegExp(`: ${CHECK} \\(${target}\\) unreachable from 2 of 3 agents for ${DURATION_SECS}s: kofn-1 ${reason}, kofn-2 ${reason}$`));

    // kofn-2's path back: one agent failing is fewer than k, so the alert resolves.
    await fleet.agents[1]!.heal();
    const resolved = await until("the alert resolved", async () => {
      const h = await history();
      return h.total >= 2 ? h : undefined;
    }, 30_000, explain);
    t.is(resolved.total, 2);
    t.like(resolved.events[0], { status: "resolved", agent_id: "*", episode_id: event.id });
    t.deepEqual(await active(), []);
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    if (failed || !t.passed) t.log(logs());
    await Promise.all(agents.map((a) => a.stop()));
    await server?.stop();
    await fleet?.netns.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
