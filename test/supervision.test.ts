import test from "ava";
import { setTimeout as sleep } from "node:timers/promises";
import { status } from "@grpc/grpc-js";
import { ProtoClient, makeBatch } from "./helpers/proto-client.ts";
import { getJson, startTestServer, until } from "./helpers/server.ts";

const RETRYABLE = new Set([status.UNAVAILABLE, status.RESOURCE_EXHAUSTED]);

/** Sends reports one after another as an agent does, retrying what was not acknowledged. */
async function agentStream(client: ProtoClient, agentId: string, start: number, count: number, acked: number[]) {
  for (let i = 0; i < count; i++) {
    const batch = makeBatch(agentId, start + i * 1000, 4);
    for (;;) {
      try {
        await client.report(batch);
        acked.push(batch.timestamp_ms);
        break;
      } catch (err) {
        if (!RETRYABLE.has((err as { code: number }).code)) throw err;
        await sleep(20);
      }
    }
  }
}

test("an ingest worker killed mid-stream loses nothing that was acknowledged", async (t) => {
  const server = await startTestServer({ actors: { ingest_threads: 2, max_restarts_per_minute: 50 } });
  t.teardown(() => server.stop());
  const client = new ProtoClient(server.grpc);
  t.teardown(() => client.close());
  const start = Date.now() - 600_000;
  const agents = ["s-1", "s-2", "s-3", "s-4"];
  const acked = new Map(agents.map((a) => [a, [] as number[]]));
  const streams = Promise.all(agents.map((a) => agentStream(client, a, start, 150, acked.get(a)!)));
  // Kill a thread three times while reports are in flight, each after the last restart.
  for (let kills = 1; kills <= 3; kills++) {
    while (server.ingest.restarts < kills) {
      await sleep(100);
      if (server.ingest.threads > 0) await server.ingest.crashOneForTest();
    }
  }
  await streams;
  t.true(server.ingest.restarts >= 3, `restarts counted: ${server.ingest.restarts}`);
  t.deepEqual(server.fatal, []);
  for (const agent of agents) {
    const q = await getJson(`${server.http}/v1/metrics?agent=${agent}&metric=cpu.usage&from=${start}&to=${start + 150_000}`);
    const stored = q.body.series[0].points.map((p: number[]) => p[0]);
    t.deepEqual(stored, [...acked.get(agent)!].sort((a, b) => a - b), `${agent}: every acknowledged report stored exactly once`);
    t.is(stored.length, 150);
  }
});

test("a crashed agent-window shard restarts and rebuilds from storage", async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  const client = new ProtoClient(server.grpc);
  t.teardown(() => client.close());
  await client.report(makeBatch("w-1", Date.now() - 1000, 3));
  t.is((await getJson(`${server.http}/v1/agents/w-1/latest`)).body.length, 3);
  await server.window.shardFor("w-1").crashForTest();
  let res;
  for (let i = 0; i < 600; i++) { // up to 30 s on a loaded machine; ends at the first 200
    res = await getJson(`${server.http}/v1/agents/w-1/latest`);
    if (res.status === 200) break;
    t.is(res.status, 503, "while restarting the shard answers UNAVAILABLE");
    await sleep(50);
  }
  t.is(res!.status, 200);
  t.is(res!.body.length, 3, "latest values rebuilt from storage");
  t.is(server.window.restarts, 1);
});

test("alerts keep flowing after the rule-evaluator or the agent-window thread restarts (their ports are wired again; what the window missed is replayed)", async (t) => {
  const server = await startTestServer({
    alert: { rules: [{ name: "hot", type: "threshold", metric: "cpu.usage", agent_pattern: "*", operator: "gt", value: 90 }] },
  });
  t.teardown(() => server.stop());
  const client = new ProtoClient(server.grpc);
  t.teardown(() => client.close());
  const base = Date.now() - 60_000;
  const cpu = (s: number, value: number) =>
    client.report({ agent_id: "e-1", timestamp_ms: base + s * 1000, data_points: [{ timestamp_ms: base + s * 1000, metric_name: "cpu.usage", value }] });
  const history = async () => (await getJson(`${server.http}/v1/alerts/history`)).body as { total: number; events: { status: string }[] };
  const restarted = async (shard: { alive: boolean; restarts: number }) => until("the restart", async () => (shard.alive && shard.restarts === 1 ? true : undefined));
  let firing = 0;
  server.alerts.onEvent((e) => { if (e.status === "firing") firing++; });

  await server.evaluator.shardFor("e-1").crashForTest();
  await restarted(server.evaluator.shardFor("e-1"));
  await cpu(0, 95);
  await until("the firing event", async () => ((await history()).total === 1 ? true : undefined));
  await until("the firing event on the main thread", async () => (firing === 1 ? true : undefined));

  // A report that reaches the window while its shard restarts is not heard there (reports
  // come straight from the ingest threads); the agent's next report replays what the shard
  // missed from storage. Only the missed report recovers: without the replay there would be
  // no resolved event, just one long firing episode.
  await server.window.shardFor("e-1").crashForTest();
  await cpu(10, 20);
  await restarted(server.window.shardFor("e-1"));
  await server.window.stats(); // answered: the new thread has run its module, so it listens
  await cpu(20, 95);
  const h = await until("the resolved and the next firing event", async () => {
    const h = await history();
    return h.total === 3 ? h : undefined;
  }, 30_000, async () => `history: ${JSON.stringify((await history()).events.map((e) => e.status))}`);
  t.deepEqual(h.events.map((e) => e.status), ["firing", "resolved", "firing"]);
  t.deepEqual(server.fatal, []);
});

test("a crash loop is reported as fatal instead of restarting forever", async (t) => {
  const server = await startTestServer({ actors: { ingest_threads: 1, max_restarts_per_minute: 2 } });
  t.teardown(() => server.stop());
  for (let i = 0; i < 3; i++) {
    await server.ingest.crashOneForTest();
    await sleep(300);
  }
  await until("the crash loop reported", async () => (server.fatal.length > 0 ? true : undefined));
  t.is(server.fatal.length, 1);
  t.regex(server.fatal[0]!, /^ingest:/);
});
