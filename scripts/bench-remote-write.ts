import { existsSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { toSeriesText } from "../common/series-text.ts";
import { createLogger } from "../server/log.ts";
import { remoteWriteSchema } from "../server/remote-write/config-schema.ts";
import { httpPoster } from "../server/remote-write/post.ts";
import { RemoteWriteQueue } from "../server/remote-write/queue.ts";
import { RemoteSender } from "../server/remote-write/sender.ts";
import { TsdbProcess, VICTORIA_METRICS } from "../test/helpers/tsdb-binaries.ts";
import { SimulatedHost } from "./lib/agent-shape.ts";
import { machineLine, printTable } from "./lib/machine.ts";

/*
 * `npm run bench:remote-write [-- --agents 500 --reports 20 --batch 5000]`: how fast the
 * queue takes agent-shaped reports (appends committed in groups, as an ingest batch does),
 * and how many samples per second one sender forwards from it: to Debian's VictoriaMetrics
 * when installed (its ingestion shares the machine), and to a receiver that reads and
 * discards (tsmon's side alone). CPU per forwarded sample (this process: the sender, LMDB's
 * write thread and the discarding receiver) bounds the sender's cost.
 */

const args = new Map(process.argv.slice(2).flatMap((a, i, all) => (a.startsWith("--") ? [[a.slice(2), all[i + 1] ?? ""]] : [])));
const AGENTS = Number(args.get("agents") ?? 500);
const REPORTS = Number(args.get("reports") ?? 20);
const BATCH = Number(args.get("batch") ?? 5000);
const GROUP = 16;

const rules = { instanceLabel: "instance", agentIdLabel: true, metricPrefix: "", externalLabels: {} };

async function fill(queue: RemoteWriteQueue): Promise<{ points: number; seconds: number }> {
  const hosts = Array.from({ length: AGENTS }, (_, i) => new SimulatedHost(`bench-${i}`, i + 1));
  const start = Date.now() - REPORTS * 10_000;
  const reports = [];
  for (let r = 0; r < REPORTS; r++) {
    for (const host of hosts) {
      const batch = host.report(start + r * 10_000, 10);
      reports.push({
        agentId: host.agentId,
        samples: {
          series: toSeriesText(batch.points.map((p) => [p.metric, p.labels] as const)),
          timestamps: Float64Array.from(batch.points, (p) => p.timestampMs),
          values: Float64Array.from(batch.points, (p) => p.value),
        },
      });
    }
  }
  const t0 = performance.now();
  for (let i = 0; i < reports.length; i += GROUP) {
    await Promise.all(reports.slice(i, i + GROUP).map((r) => queue.append(r.agentId, r.samples)));
  }
  return { points: reports.reduce((n, r) => n + r.samples.values.length, 0), seconds: (performance.now() - t0) / 1000 };
}

const NAMES = existsSync(VICTORIA_METRICS) ? ["discard", "victoria-metrics"] : ["discard"];

async function drain(queue: RemoteWriteQueue, name: string, url: string, total: number): Promise<{ seconds: number; cpuSeconds: number }> {
  const poster = httpPoster(remoteWriteSchema.parse({ url }));
  let sent = 0;
  let finished!: () => void;
  const done = new Promise<void>((r) => (finished = r));
  await queue.ensureCursor(name);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sender = new RemoteSender({
    name, queue, post: poster.post, rules, batchMaxSamples: BATCH, queueMaxBytes: 2 ** 40, backoff: { minMs: 100, maxMs: 1000 },
    holdsLease: () => true, allNames: NAMES, pollMs: 5, log: createLogger("warn"),
    events: { sent: (n) => { sent += n; if (sent >= total) finished(); }, dropped: () => undefined, failed: () => undefined },
  });
  await done;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await sender.stop();
  poster.close();
  return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

const dir = mkdtempSync(path.join(tmpdir(), "tsmon-bench-rw-"));
const queue = new RemoteWriteQueue(dir);
const sink = http.createServer((req, res) => { req.resume(); req.on("end", () => res.writeHead(204).end()); });
let vm: TsdbProcess | undefined;
try {
  for (const name of NAMES) await queue.ensureCursor(name);
  const filled = await fill(queue);
  const bytesPerPoint = queue.head() / filled.points;
  await new Promise<void>((r) => sink.listen(0, "127.0.0.1", r));
  const discard = await drain(queue, "discard", `http://127.0.0.1:${(sink.address() as { port: number }).port}/api/v1/write`, filled.points);
  const rows: [string, string][] = [
    ["reports × points", `${AGENTS * REPORTS} × ${(filled.points / (AGENTS * REPORTS)).toFixed(0)} = ${filled.points} points, ${(queue.head() / 2 ** 20).toFixed(1)} MiB queued`],
    ["queue append", `${Math.round(filled.points / filled.seconds).toLocaleString("en")} points/s (${GROUP} reports a commit), ${bytesPerPoint.toFixed(1)} B/point`],
    ["forward to a discarding receiver", `${Math.round(filled.points / discard.seconds).toLocaleString("en")} samples/s, ${Math.round(filled.points / discard.cpuSeconds).toLocaleString("en")} per CPU-second of this process, sender and receiver (batch_max_samples ${BATCH})`],
  ];
  if (existsSync(VICTORIA_METRICS)) {
    vm = await TsdbProcess.victoriaMetrics();
    const toVm = await drain(queue, "victoria-metrics", `${vm.url}/api/v1/write`, filled.points);
    rows.push(["forward to VictoriaMetrics", `${Math.round(filled.points / toVm.seconds).toLocaleString("en")} samples/s (VictoriaMetrics on the same cores)`]);
  } else {
    rows.push(["forward to VictoriaMetrics", `skipped: apt-get install -y victoria-metrics`]);
  }
  console.log(`bench:remote-write — ${machineLine()}`);
  printTable(rows);
} finally {
  sink.close();
  await vm?.destroy();
  await queue.close();
  rmSync(dir, { recursive: true, force: true });
}
