import test from "ava";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { ProtoClient, makeBatch } from "./helpers/proto-client.ts";
import { freePort } from "../scripts/lib/ports.ts";
import { testAuthToml } from "../scripts/lib/test-credentials.ts";
import { freshGet } from "./helpers/server.ts";
import { HttpReceiver } from "./helpers/http-receiver.ts";

const run = promisify(execFile);
const root = new URL("..", import.meta.url).pathname;
const pm2 = path.join(root, "node_modules/.bin/pm2");

test("two PM2 cluster instances share ports and LMDB files; every point reads back from both; alerts fire once", async (t) => {
  const rx = await HttpReceiver.start();
  t.teardown(() => rx.stop());
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-pm2-"));
  const [grpcPort, httpPort] = [await freePort(), await freePort()];
  const configFile = path.join(dir, "server.toml");
  writeFileSync(configFile, `grpc_port = ${grpcPort}\nhttp_port = ${httpPort}\nbind_address = "127.0.0.1"\ndata_dir = "${dir}/data"\nlog_level = "warn"\n` +
    `[actors]\ningest_threads = 1\n` +
    `[[alert.rules]]\nname = "busy"\ntype = "threshold"\nmetric = "cpu.usage"\noperator = "gt"\nvalue = 5\nduration_secs = 20\n` +
    `[notification]\naggregation_window_secs = 0\n[[notification.channels]]\ntype = "webhook"\nurl = "${rx.url("/hook")}"\n` +
    testAuthToml);
  const env = { ...process.env, PM2_HOME: path.join(dir, "pm2"), TSMON_SERVER_CONFIG: configFile, TSMON_INSTANCES: "2" };
  t.teardown(async () => {
    await run(pm2, ["kill"], { env }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  await run(pm2, ["start", path.join(root, "ecosystem.config.cjs"), "--only", "tsmon-server"], { env });

  const base = `http://127.0.0.1:${httpPort}`;
  const pids = new Set<number>();
  for (let i = 0; i < 300 && pids.size < 2; i++) {
    const res = await freshGet(`${base}/v1/health`).catch(() => undefined);
    if (res?.status === 200) pids.add(res.body.pid);
    else await sleep(100);
  }
  t.is(pids.size, 2, "both instances answer on the shared HTTP port");

  // 20 agents, 10 reports each, alternating between two connections of their own: the
  // cluster spreads connections, so both instances ingest reports of the same agent.
  const start = Date.now() - 300_000;
  const agents = Array.from({ length: 20 }, (_, i) => `pm2-agent-${String(i).padStart(2, "0")}`);
  await Promise.all(agents.map(async (agentId) => {
    const clients = [0, 1].map(() => new ProtoClient(`127.0.0.1:${grpcPort}`, undefined, { "grpc.use_local_subchannel_pool": 1 }));
    try {
      for (let r = 0; r < 10; r++) await clients[r % 2]!.report(makeBatch(agentId, start + r * 10_000, 3));
    } finally {
      for (const c of clients) c.close();
    }
  }));

  // Every agent breached "busy" (cpu.usage > 5) for 90 s of data: one firing event each, not two.
  // Polls for up to a minute (a loaded machine), then a moment more for a second event.
  let history: any;
  for (let i = 0; i < 600; i++) {
    history = (await freshGet(`${base}/v1/alerts/history?limit=1000`)).body;
    if (history.total >= agents.length) break;
    await sleep(100);
  }
  await sleep(500);
  history = (await freshGet(`${base}/v1/alerts/history?limit=1000`)).body;
  t.deepEqual(history.events.map((e: any) => `${e.agent_id} ${e.status}`).sort(), agents.map((a) => `${a} firing`));
  t.true(history.events.every((e: any) => e.fired_at === new Date(start + 20_000).toISOString()), "each fired once 20 s of data had breached");

  // Both instances run a notifier; the lease lets only one deliver: each event arrives once.
  const delivered = () => rx.requests.flatMap((r) => r.body.alerts.map((a: any) => a.agent_id)).sort();
  for (let i = 0; i < 600 && delivered().length < agents.length; i++) await sleep(100);
  await sleep(1500);
  if (delivered().length !== agents.length) t.log((await run(pm2, ["logs", "--nostream", "--lines", "40", "--err"], { env })).stdout);
  t.deepEqual(delivered(), agents);

  // Fresh connections alternate between the instances, so each check below is answered by both.
  for (let round = 0; round < 4; round++) {
    const list = await freshGet(`${base}/v1/agents`);
    t.deepEqual(list.body.map((a: any) => a.agent_id).sort(), agents);
    for (const agentId of agents) {
      const q = await freshGet(`${base}/v1/metrics?agent=${agentId}&metric=cpu.core_usage&from=${start}&to=${start + 100_000}`);
      t.is(q.status, 200);
      t.is(q.body.series.length, 2);
      const counts = q.body.series.map((s: any) => s.points.length);
      // Once seen in CI (9 of 10, not reproduced in 12 local runs): say which points came back.
      if (counts.some((n: number) => n !== 10)) t.log(`round ${round}`, JSON.stringify(q.body.series.map((s: any) => [s.labels, s.points.map((p: number[]) => (p[0]! - start) / 1000)])));
      t.deepEqual(counts, [10, 10], `${agentId}: all 10 points of both series`);
      const latest = await freshGet(`${base}/v1/agents/${agentId}/latest`);
      t.is(latest.body.length, 3);
      t.true(latest.body.every((p: any) => p.timestamp_ms === start + 90_000), `${agentId}: latest is the newest report, whichever instance ingested it`);
    }
  }
});
