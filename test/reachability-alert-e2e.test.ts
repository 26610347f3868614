import test from "ava";
import { ProtoClient, type ProtoBatch, type ProtoCheckEvent } from "./helpers/proto-client.ts";
import { adminFetch, getJson, startTestServer, until } from "./helpers/server.ts";

/*
 * k of n over a real server: three agents (gRPC clients built from the proto alone) report
 * their `db` check's check.up; a reachability rule from server.toml with k = 2. Two window
 * and two evaluator shards, so the agents' votes meet only in the store. Times are the
 * samples' own, so nothing here depends on how fast the server is.
 */

const AGENTS = ["reach-1", "reach-2", "reach-3"];
const TARGET = "10.5.5.5:5432";

test("one agent failing raises nothing with k = 2; two raise one alert naming both; healing resolves it", async (t) => {
  const server = await startTestServer({
    actors: { ingest_threads: 1, window_shards: 2, evaluator_shards: 2 },
    alert: { rules: [{ name: "db-unreachable", type: "reachability", check: "db", min_failing_agents: 2, duration_secs: 3, severity: "critical" }] },
  });
  const client = new ProtoClient(server.grpc);
  try {
    const base = Date.now() - 120_000;
    const at = (round: number) => base + round * 1000;
    const labels = { check: "db", type: "tcp", target: TARGET };
    const event = (round: number, kind: string, extra: Partial<ProtoCheckEvent> = {}): ProtoCheckEvent =>
      ({ check: "db", type: "tcp", target: TARGET, timestamp_ms: at(round), kind, up: kind === "CHECK_EVENT_UP", ...extra });
    const round = async (r: number, failing: readonly string[], events: Record<string, ProtoCheckEvent[]> = {}) => {
      for (const agent of AGENTS) {
        const batch: ProtoBatch = {
          agent_id: agent, timestamp_ms: at(r),
          data_points: [{ timestamp_ms: at(r), metric_name: "check.up", value: failing.includes(agent) ? 0 : 1, labels }],
          check_events: events[agent] ?? [],
        };
        t.like(await client.report(batch), { success: true });
      }
    };
    const history = async () => (await getJson(`${server.http}/v1/alerts/history`)).body;

    await round(0, ["reach-1"], { "reach-1": [event(0, "CHECK_EVENT_DOWN", { reason_code: "refused", reason_message: "connect ECONNREFUSED" })] });
    await round(1, ["reach-1"], {
      "reach-1": [event(1, "CHECK_EVENT_TRACEROUTE", { hops: [{ ttl: 1, address: "10.0.0.1", rtt_ms: [0.5] }, { ttl: 2, address: "10.0.0.254", rtt_ms: [1.5] }, { ttl: 3, rtt_ms: [-1, -1] }] })],
    });
    for (let r = 2; r <= 6; r++) await round(r, ["reach-1"]);
    // reach-2 fails too from round 7: 3 s of it (duration_secs) at round 10.
    await round(7, ["reach-1", "reach-2"], { "reach-2": [event(7, "CHECK_EVENT_DOWN", { reason_code: "timeout", reason_message: "no answer in time" })] });
    for (let r = 8; r <= 11; r++) await round(r, ["reach-1", "reach-2"]);
    const fired = await until("the firing event", async () => {
      const h = await history();
      return h.total >= 1 ? h : undefined;
    });
    t.is(fired.total, 1, "one alert for the rule, nothing while only one agent failed");
    const e = fired.events[0];
    t.like(e, { status: "firing", rule_id: "cfg-db-unreachable", agent_id: "*", metric: "check.up", labels: { check: "db" }, value: 2, threshold: 2, severity: "critical" });
    // At reach-2's third second of failing, or, should another shard be ahead with the next
    // round, at that round's time (the alert's time is its newest vote's).
    t.true([at(10), at(11)].includes(Date.parse(e.fired_at)), e.fired_at);
    t.is(e.message, `[critical] db-unreachable on * {check="db"}: db (${TARGET}) unreachable from 2 of 3 agents for 3s: ` +
      "reach-1 (refused: connect ECONNREFUSED; last hop 10.0.0.254 (ttl 2)), reach-2 (timeout: no answer in time)");
    const active = (await getJson(`${server.http}/v1/alerts/active`)).body;
    t.is(active.length, 1);

    await round(12, ["reach-1"], { "reach-2": [event(12, "CHECK_EVENT_UP")] });
    await round(13, ["reach-1"]);
    const resolved = await until("the resolved event", async () => {
      const h = await history();
      return h.total >= 2 ? h : undefined;
    });
    t.is(resolved.total, 2);
    t.like(resolved.events[0], { status: "resolved", agent_id: "*", episode_id: e.id });
    t.true([at(12), at(13)].includes(Date.parse(resolved.events[0].resolved_at)), resolved.events[0].resolved_at);
    t.deepEqual((await getJson(`${server.http}/v1/alerts/active`)).body, []);
  } finally {
    client.close();
    await server.stop();
  }
});

test("a reachability rule through the API: created with its defaults; one without a check is a 400 naming it", async (t) => {
  const server = await startTestServer();
  try {
    const post = (body: unknown) => adminFetch(`${server.http}/v1/alerts/rules`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
    });
    const created = await post({ name: "edge-down", type: "reachability", check: "mesh:edge-1", min_failing_agents: 3 });
    t.is(created.status, 201);
    t.like(await created.json(), { type: "reachability", check: "mesh:edge-1", min_failing_agents: 3, duration_secs: 0, metric: "check.up" });
    const missing = await post({ name: "no-check", type: "reachability" });
    t.is(missing.status, 400);
    t.regex(((await missing.json()) as { error: string }).error, /check/);
  } finally {
    await server.stop();
  }
});
