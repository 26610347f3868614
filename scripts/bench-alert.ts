import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { encodeBatchProto } from "../server/ingest/decode.ts";
import { SimulatedHost } from "./lib/agent-shape.ts";
import { openChannels, quantile, sendReport } from "./lib/grpc-load.ts";
import { machineLine, printTable } from "./lib/machine.ts";
import { spawnServer, writeServerConfig } from "./lib/server-process.ts";
import { adminFetch, adminHeaders } from "./lib/test-credentials.ts";

/*
 * Alert latency: simulated agents report agent-shaped data over real gRPC to a server
 * process running 20 rules of every data-driven type. The server measures from a report's
 * arrival to the emission of each event it causes (tsmon_alert_latency_seconds); this
 * script also measures, from outside, report sent → event received on the live feed, and
 * report sent → notification received by a webhook (group_wait_secs = 0, the default 60 s
 * window: a group's first page goes out at once, so those are timed; follow-ups wait for the
 * window by design and are not). Under the flapping load every group opens in the first
 * second, so first pages in steady state come from probe rules: every 2 s one of them fires
 * for the first time (a quiet group), timed from its report to the webhook.
 * Data time is compressed (each report is 10 s after the agent's previous one).
 */
const { values } = parseArgs({ options: {
  agents: { type: "string", default: "1000" },
  seconds: { type: "string", default: "30" },
  // 1,000 agents reporting every 10 s, as in production.
  rate: { type: "string", default: "100" },
} });
const agents = Number(values.agents), seconds = Number(values.seconds), rate = Number(values.rate);

// 20 rules: 10 flapping per-core thresholds (events on most reports), 4 thresholds with
// durations, 3 rates of change, 3 trend predictions.
const rules: string[] = [];
for (let c = 0; c < 10; c++) {
  rules.push(`name = "core-${c}"\ntype = "threshold"\nmetric = "cpu.core_usage"\nlabels = { core = "${c}" }\noperator = "gt"\nvalue = ${20 + c * 3}`);
}
rules.push(
  `name = "memory-high"\ntype = "threshold"\nmetric = "memory.used_percent"\noperator = "gt"\nvalue = 50\nduration_secs = 30`,
  `name = "disk-high"\ntype = "threshold"\nmetric = "disk.used_percent"\noperator = "gt"\nvalue = 40\nduration_secs = 60`,
  `name = "load-high"\ntype = "threshold"\nmetric = "load.load_1"\noperator = "gt"\nvalue = 3\nduration_secs = 20`,
  `name = "cpu-high"\ntype = "threshold"\nmetric = "cpu.usage"\noperator = "gt"\nvalue = 60\nduration_secs = 60\nseverity = "critical"`,
  `name = "rx-jump"\ntype = "rate_of_change"\nmetric = "network.bytes_recv"\nrate_threshold = 300\nwindow_secs = 60`,
  `name = "io-jump"\ntype = "rate_of_change"\nmetric = "disk.io_write_bytes"\nrate_threshold = 500\nwindow_secs = 60`,
  `name = "load-jump"\ntype = "rate_of_change"\nmetric = "load.load_1"\nrate_threshold = 400\nwindow_secs = 60`,
  `name = "disk-fill"\ntype = "trend_prediction"\nmetric = "disk.used_percent"\npredict_threshold = 95\nhorizon_secs = 86400\nmin_data_points = 10\nwindow_secs = 600`,
  `name = "memory-fill"\ntype = "trend_prediction"\nmetric = "memory.used_percent"\npredict_threshold = 90\nhorizon_secs = 3600\nmin_data_points = 10\nwindow_secs = 600`,
  `name = "load-climb"\ntype = "trend_prediction"\nmetric = "load.load_15"\npredict_threshold = 10\nhorizon_secs = 600\nmin_data_points = 6\nwindow_secs = 300`,
);
// Probe rules: each fires once, on its own report, as the first event of its group.
const probes = Math.max(1, Math.floor(seconds / 2) - 1);
for (let p = 0; p < probes; p++) {
  rules.push(`name = "probe-${p}"\ntype = "threshold"\nmetric = "bench.probe"\nlabels = { probe = "${p}" }\noperator = "gt"\nvalue = 0.5\nseverity = "critical"`);
}
// A webhook receiver: the time each notification's alerts arrive.
const webhookArrivals: { at: number; rule: string; alerts: { agent_id: string; status: string; fired_at: string; resolved_at: string | null }[] }[] = [];
const receiver = http.createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    const n = JSON.parse(body) as { rule: string; alerts?: (typeof webhookArrivals)[number]["alerts"] };
    webhookArrivals.push({ at: performance.now(), rule: n.rule, alerts: n.alerts ?? [] });
    res.writeHead(200).end("{}");
  });
});
await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

const extra = rules.map((r) => `[[alert.rules]]\n${r}\n`).join("\n") + `[actors]\ningest_queue = 4096\n` +
  `[notification]\ngroup_wait_secs = 0\naggregation_window_secs = 60\n[[notification.channels]]\ntype = "webhook"\nurl = "${hookUrl}"\n`;

const dir = mkdtempSync(path.join(tmpdir(), "tsmon-bench-alert-"));
const { file, ports } = await writeServerConfig(dir, { extra, logLevel: "warn" });
const server = await spawnServer(file, ports);

// Events as the live feed delivers them, matched to the report that caused them.
const sentAt = new Map<string, { at: number; firstRound: boolean }>();
const endToEnd: number[] = [];
const steady: number[] = [];
let events = 0;
const live = new WebSocket(`ws://127.0.0.1:${ports.http}/v1/live`, { headers: await adminHeaders(server.http) });
await new Promise((resolve) => live.once("open", resolve));
live.send(JSON.stringify({ type: "subscribe", agents: ["*"], metrics: [], alerts: true }));
live.on("message", (data) => {
  const msg = JSON.parse(data.toString());
  if (msg.type !== "alert") return;
  events++;
  const e = msg.event;
  const sent = sentAt.get(`${e.agent_id} ${e.status === "firing" ? e.fired_at : e.resolved_at}`);
  if (!sent) return;
  endToEnd.push(performance.now() - sent.at);
  if (!sent.firstRound) steady.push(performance.now() - sent.at);
});

const hosts = Array.from({ length: agents }, (_, i) => new SimulatedHost(`host-${i}`, i + 1));
const channels = openChannels(server.grpc, 8);
const start = Date.now() - 6 * 3_600_000;
let sent = 0, refused = 0, next = 0;
let afterFirstRound: Promise<string> | undefined;
const t0 = performance.now();
const deadline = t0 + seconds * 1000;
const gapMs = 1000 / rate;
const probeSentAt = new Map<string, number>();
await Promise.all([...Array.from({ length: 32 }, async (_, worker) => {
  const client = channels[worker % channels.length]!;
  while (performance.now() < deadline) {
    const n = next++;
    const due = t0 + n * gapMs;
    if (due > performance.now()) await new Promise((r) => setTimeout(r, due - performance.now()));
    if (n === agents) afterFirstRound = adminFetch(`${server.http}/metrics`).then((r) => r.text());
    const a = n % agents;
    const ts = start + Math.floor(n / agents) * 10_000;
    const batch = hosts[a]!.report(ts, 10);
    // An agent's first report makes its shard read storage and meet every rule: the first round.
    sentAt.set(`host-${a} ${ts}`, { at: performance.now(), firstRound: n < agents });
    if (await sendReport(client, encodeBatchProto(batch))) refused++;
    else sent++;
  }
}), (async () => {
  // One probe every 2 s from the second second on: a report whose one point fires probe-p.
  const client = channels[0]!;
  for (let p = 0; p < probes; p++) {
    const due = t0 + 2_000 * (p + 1);
    if (due > performance.now()) await new Promise((r) => setTimeout(r, due - performance.now()));
    probeSentAt.set(`probe-${p}`, performance.now());
    const ts = Date.now();
    await sendReport(client, encodeBatchProto({ agentId: "probe-agent", timestampMs: ts, points: [{ timestampMs: ts, metric: "bench.probe", value: 1, labels: { probe: String(p) } }] }));
  }
})()]);
await new Promise((r) => setTimeout(r, 2000)); // events and first pages of the last reports
const elapsed = (performance.now() - t0) / 1000;

const metricsText = await (await adminFetch(`${server.http}/metrics`)).text();
const firstRoundText = (await afterFirstRound) ?? "";
live.close();
receiver.closeAllConnections();
receiver.close();
for (const c of channels) c.close();
server.child.kill("SIGTERM");
await server.exited;
rmSync(dir, { recursive: true, force: true });

function buckets(text: string, name: string, labels: string): (readonly [number, number])[] {
  return [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"${labels ? "," + labels : ""}\\} (\\d+)`, "gm"))]
    .map((m) => [m[1] === "+Inf" ? Infinity : Number(m[1]), Number(m[2])] as const);
}

/** p-quantile of a Prometheus histogram (minus an earlier scrape), interpolated within its bucket. */
function histogramQuantile(name: string, q: number, since = "", labels = ""): number {
  const before = buckets(since, name, labels);
  const buckets_ = buckets(metricsText, name, labels).map(([le, c], i) => [le, c - (before[i]?.[1] ?? 0)] as const);
  const total = buckets_.at(-1)?.[1] ?? 0;
  let prevLe = 0, prevCount = 0;
  for (const [le, count] of buckets_) {
    if (count >= q * total) return le === Infinity ? prevLe : prevLe + (le - prevLe) * ((q * total - prevCount) / Math.max(1, count - prevCount));
    prevLe = le; prevCount = count;
  }
  return NaN;
}
const ms = (seconds: number) => `${(seconds * 1000).toFixed(1)} ms`;
const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(metricsText)?.[1]);
// Report sent → webhook received, per alert in each first page that a report of this run caused.
const toProbePage = webhookArrivals.flatMap(({ at, rule }) => (probeSentAt.has(rule) ? [at - probeSentAt.get(rule)!] : [])).sort((a, b) => a - b);
const toWebhook = webhookArrivals.flatMap(({ at, alerts }) => alerts.flatMap((a) => {
  const sent = sentAt.get(`${a.agent_id} ${Date.parse(a.status === "firing" ? a.fired_at : a.resolved_at!)}`);
  return sent ? [at - sent.at] : [];
})).sort((a, b) => a - b);
endToEnd.sort((a, b) => a - b);
steady.sort((a, b) => a - b);

console.log(`\nbench:alert — ${agents} agents × ${rules.length} rules (10 flapping thresholds, 4 with durations, 3 rates of change, 3 trends),` +
  ` ${rate} reports/s of ~95 points for ${seconds} s, data time 10 s per report`);
console.log(`machine: ${machineLine()}\n`);
printTable([
  ["reports acknowledged / refused", `${sent} / ${refused} (${(sent / elapsed).toFixed(0)}/s)`],
  ["alert events", `${events} (${(events / elapsed).toFixed(0)}/s)`],
  ["report arrival → event emitted (server)", `p50 ${ms(histogramQuantile("tsmon_alert_latency_seconds", 0.5))}, p99 ${ms(histogramQuantile("tsmon_alert_latency_seconds", 0.99))} (histogram, interpolated)`],
  ["  same, after each agent's first report", `p50 ${ms(histogramQuantile("tsmon_alert_latency_seconds", 0.5, firstRoundText))}, p99 ${ms(histogramQuantile("tsmon_alert_latency_seconds", 0.99, firstRoundText))}`],
  ...["ingest", "window", "evaluate"].map((stage) => {
    const at = (q: number) => ms(histogramQuantile("tsmon_alert_stage_seconds", q, firstRoundText, `stage="${stage}"`));
    return [`    of which ${stage}`, `p50 ${at(0.5)}, p99 ${at(0.99)}`] as [string, string];
  }),
  ["report sent → event on live feed (client)", `p50 ${quantile(endToEnd, 0.5).toFixed(1)} ms, p99 ${quantile(endToEnd, 0.99).toFixed(1)} ms (${endToEnd.length} matched)`],
  ["  same, after each agent's first report", `p50 ${quantile(steady, 0.5).toFixed(1)} ms, p99 ${quantile(steady, 0.99).toFixed(1)} ms (${steady.length} events)`],
  ["report sent → webhook received (first pages)", `p50 ${quantile(toWebhook, 0.5).toFixed(1)} ms, p99 ${quantile(toWebhook, 0.99).toFixed(1)} ms (${toWebhook.length} alerts in ${webhookArrivals.length} notifications, most in the first second)`],
  ["  a quiet group's first page, under the load", `p50 ${quantile(toProbePage, 0.5).toFixed(1)} ms, p99 ${quantile(toProbePage, 0.99).toFixed(1)} ms (${toProbePage.length} of ${probes} probes)`],
  ["agent-window memory per agent", `${(gauge("tsmon_window_bytes_per_agent") / 1024).toFixed(1)} KiB (estimate; ${gauge("tsmon_window_series")} series, ${gauge("tsmon_window_samples_held")} samples held in rule windows)`],
]);
