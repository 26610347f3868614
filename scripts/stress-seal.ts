import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { DAY_MS, dayOf } from "../server/storage/days.ts";
import { ControlStore } from "../server/storage/control-store.ts";
import { Lease } from "../server/storage/lease.ts";
import { MetricStore } from "../server/storage/metric-store.ts";
import { PartitionSet } from "../server/storage/partitions.ts";
import { adminFetch } from "../test/helpers/server.ts";
import { ProtoClient, makeBatch } from "../test/helpers/proto-client.ts";
import { spawnServer, writeServerConfig } from "./lib/server-process.ts";

/*
 * The seal race, round after round: a server process (two ingest threads) takes late
 * reports for a day from four streams while this process, holding the sealer lease as the
 * production sealer does, seals that day every 20 ms; then every acknowledged report must
 * be read back once. Stops at the first round that loses one (or whose seal fails) and
 * prints what the data dir holds. Not a benchmark: the reproducer of the races found there
 * (docs/architecture.md, "Sealing against late reports").
 */
const { values } = parseArgs({ options: { rounds: { type: "string", default: "20" } } });
const rounds = Number(values.rounds);

for (let round = 0; round < rounds; round++) {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-stress-seal-"));
  const dataDir = path.join(dir, "data");
  const { file, ports } = await writeServerConfig(dir, { dataDir, logLevel: "warn", extra: "[actors]\ningest_threads = 2\n" });
  const control = new ControlStore(dataDir);
  const lease = new Lease(control.leases, "sealer", 600_000);
  await lease.acquire();
  const server = await spawnServer(file, ports);
  const partitions = new PartitionSet(dataDir);
  const store = new MetricStore(partitions);
  const lateDay = Math.floor(Date.now() / DAY_MS) * DAY_MS - 2 * DAY_MS;
  const acked: number[] = [];
  let sending = true, seals = 0, failure = "";
  const streams = Array.from({ length: 4 }, async (_, s) => {
    const client = new ProtoClient(server.grpc, undefined, { "grpc.use_local_subchannel_pool": 1 });
    try {
      for (let i = 0; sending; i++) {
        const ts = lateDay + 3_600_000 + i * 4_000 + s * 1_000;
        await client.report(makeBatch("race-1", ts, 3));
        acked.push(ts);
      }
    } catch (err) {
      failure ||= `stream ${s}: ${String(err)}`;
    } finally {
      client.close();
    }
  });
  try {
    for (; seals < 8 || acked.length < 100; seals++) {
      await store.seal(dayOf(lateDay));
      await new Promise((r) => setTimeout(r, 20));
    }
  } catch (err) {
    failure ||= `seal ${seals}: ${String(err)}`;
  }
  sending = false;
  await Promise.all(streams);
  if (!failure) {
    const res = await adminFetch(`${server.http}/v1/metrics?agent=race-1&metric=cpu.usage&from=${lateDay}&to=${lateDay + DAY_MS - 1}`);
    const got = new Set(((await res.json()) as { series: { points: number[][] }[] }).series[0]!.points.map((p) => p[0]!));
    const missing = acked.filter((ts) => !got.has(ts)).map((ts) => ts - lateDay);
    if (missing.length) failure = `acknowledged, never read back (ms after the day's start): ${missing.join(", ")}`;
  }
  const files = ["metrics", "sealed"].map((d) => `${d}/: ${readdirSync(path.join(dataDir, d)).filter((f) => !f.endsWith("-lock")).join(" ")}`).join("; ");
  console.log(`round ${round}: ${failure || "ok"} — ${seals} seals, ${acked.length} reports; ${files}`);
  server.child.kill("SIGTERM");
  await server.exited;
  await partitions.closeAll();
  await lease.release();
  await control.close();
  rmSync(dir, { recursive: true, force: true });
  if (failure) process.exit(1);
}
