import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { IngestPool } from "../server/actors/ingest-pool.ts";
import type { IngestTask } from "../server/actors/messages.ts";
import { ControlStore } from "../server/storage/control-store.ts";

test("reports submitted together are answered each on its own; beyond what the pool takes, RESOURCE_EXHAUSTED and nothing stored", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-ingest-pool-"));
  const pool = new IngestPool({
    threads: 1, queue: 10, workerData: { dataDir: dir, retentionDays: 7, requireAgentAuth: false },
    policy: { baseMs: 100, maxMs: 1000, maxPerMinute: 5 }, onCrashLoop: () => t.fail("crash loop"),
  });
  t.teardown(async () => {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const ts = Date.now() - 1_000;
  const report = (agentId: string, metric = "cpu.usage"): IngestTask =>
    ({ type: "report-batch", batch: { agentId, timestampMs: ts, points: [{ metric, labels: {}, value: 1, timestampMs: ts }] } });

  // Submitted in one turn of the event loop: more than the pool takes at once.
  const submitted = Array.from({ length: 100 }, (_, i) => pool.submit(i === 5 ? report("bad-5", "not a metric!") : report(`agent-${i}`)));
  const results = await Promise.allSettled(submitted);
  const codes = results.map((r) => (r.status === "fulfilled" ? `stored ${r.value.agentId}` : (r.reason as { code: string }).code));
  t.is(codes.filter((c) => c === "RESOURCE_EXHAUSTED").length, 100 - pool.acceptsAtOnce);
  t.deepEqual(codes.slice(pool.acceptsAtOnce), Array(100 - pool.acceptsAtOnce).fill("RESOURCE_EXHAUSTED"), "the latest are refused");
  t.is(codes[5], "INVALID_ARGUMENT", "a bad report in a batch is refused alone");
  const stored = codes.filter((c) => c.startsWith("stored "));
  t.is(stored.length, pool.acceptsAtOnce - 1);
  t.true(codes.every((c, i) => !c.startsWith("stored ") || c === `stored agent-${i}`), "each reply reaches its own report");

  const control = new ControlStore(dir);
  t.teardown(() => control.close());
  t.deepEqual(control.listAgents().map((a) => a.agent_id).sort(), stored.map((c) => c.slice("stored ".length)).sort(), "stored exactly the accepted ones");
  t.is((await pool.submit(report("after"))).agentId, "after", "the pool takes reports again once answered");
});
