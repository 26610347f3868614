import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os, { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import type * as grpc from "@grpc/grpc-js";
import type { Page } from "puppeteer-core";
import { encodeBatchProto } from "../server/ingest/decode.ts";
import type { MetricPoint } from "../common/metrics.ts";
import { SimulatedHost } from "./lib/agent-shape.ts";
import { openChannels, sendReport } from "./lib/grpc-load.ts";
import { machineLine, printTable } from "./lib/machine.ts";
import { spawnServer, writeServerConfig } from "./lib/server-process.ts";
import { TEST_ADMIN } from "./lib/test-credentials.ts";
import { buildWeb, WEB_DIST, webBundleStale } from "./build-web.ts";

/*
 * The dashboard in headless Chromium against a real server process: `--agents` agents with
 * 15 minutes of agent-shaped reports (95 series every 10 s) and one host with 24 hours.
 * Measures (1) navigation to / until the list holds every agent and the cards on screen are
 * drawn (only those near the viewport are in the DOM), (2) the longest
 * main-thread task while every agent reports every 10 s
 * for `--live-cycles` cycles, (3) the host page: 24 h charts drawn after their data arrived,
 * (4) the gzipped size of the JavaScript and CSS.
 */
const { values } = parseArgs({ options: {
  agents: { type: "string", default: "1000" },
  "live-cycles": { type: "string", default: "3" },
  chromium: { type: "string", default: process.env.TSMON_CHROMIUM ?? "/usr/bin/chromium" },
} });
const agents = Number(values.agents), cycles = Number(values["live-cycles"]);
if (!Number.isInteger(agents) || agents < 1) throw new Error(`--agents must be a positive integer, not '${values.agents}'`);
const INTERVAL = 10_000;
const FLEET_REPORTS = 90;
const HOST_REPORTS = 8_640;
const PER_CALL = 30;

if (webBundleStale()) await buildWeb();
const loadStart = os.loadavg()[0]!;
const dir = mkdtempSync(path.join(tmpdir(), "tsmon-bench-dashboard-"));
const { file, ports } = await writeServerConfig(dir, { logLevel: "warn", extra: "agent_active_secs = 60\n[http]\nrate_limit_per_minute = 1000000\n" });
const server = await spawnServer(file, ports);
let channels: grpc.Client[] = [];
let browser: import("puppeteer-core").Browser | undefined;
try {
  channels = openChannels(server.grpc, 4);
  const hosts = Array.from({ length: agents }, (_, i) => new SimulatedHost(`host-${String(i).padStart(4, "0")}`, i + 1));
  const big = new SimulatedHost("history-24h", 424_242);
  const end = Math.floor(Date.now() / INTERVAL) * INTERVAL;
  const calls: { host: SimulatedHost; first: number; count: number }[] = [];
  for (let first = 0; first < FLEET_REPORTS; first += PER_CALL) for (const host of hosts) calls.push({ host, first: FLEET_REPORTS - first - 1, count: Math.min(PER_CALL, FLEET_REPORTS - first) });
  const fillStarted = performance.now();
  let next = 0;
  const send = async (host: SimulatedHost, stamps: number[]) => {
    const points: MetricPoint[] = [];
    for (const ts of stamps) points.push(...host.report(ts, 10).points);
    const error = await sendReport(channels[next % channels.length]!, encodeBatchProto({ agentId: host.agentId, timestampMs: stamps.at(-1)!, points }));
    if (error) throw new Error(`ReportMetrics for ${host.agentId} failed: ${error.message}`);
  };
  // `first` counts reports back from `end`: each call holds the next `count` of them, oldest first.
  const stamps = (first: number, count: number) => Array.from({ length: count }, (_, k) => end - (first - k) * INTERVAL);
  const bigHost = async () => {
    for (let first = HOST_REPORTS; first > 0; first -= PER_CALL) await send(big, stamps(first, Math.min(PER_CALL, first)));
  };
  await Promise.all([bigHost(), ...Array.from({ length: 15 }, async () => {
    for (let c = next++; c < calls.length; c = next++) {
      const { host, first, count } = calls[c]!;
      await send(host, stamps(first, count));
    }
  })]);
  const fillSecs = (performance.now() - fillStarted) / 1000;

  const login = await fetch(`${server.http}/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(TEST_ADMIN) });
  const session = await login.json() as { token: string; username: string; role: string };
  const puppeteer = await import("puppeteer-core");
  browser = await puppeteer.launch({ executablePath: values.chromium, headless: true, protocolTimeout: 300_000, args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"] });
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  await page.evaluateOnNewDocument((s) => {
    sessionStorage.setItem("tsmon.session", JSON.stringify(s));
    // Long tasks (over 50 ms: the Long Tasks API), from the first moment of each page.
    const w = window as unknown as { longest: number };
    w.longest = 0;
    new PerformanceObserver((list) => { for (const e of list.getEntries()) w.longest = Math.max(w.longest, e.duration); }).observe({ type: "longtask", buffered: true });
  }, { token: session.token, username: session.username, role: session.role });

  // (1) Navigation until the list holds every agent and every card on screen is drawn with
  // its history (the grid keeps only the cards near the viewport in the DOM; the others are
  // drawn as they scroll in), and the frame that drew them has run.
  await page.goto(`${server.http}/`, { waitUntil: "domcontentloaded" });
  await page.waitForFunction((n) => {
    const list = document.querySelector("ul.cards[aria-busy=false]");
    if (!list || Number(list.getAttribute("data-count")) < n) return false;
    const onScreen = [...list.querySelectorAll("li[data-agent]")].filter((li) => {
      const r = li.getBoundingClientRect();
      return r.bottom > 0 && r.top < innerHeight;
    });
    return onScreen.length > 0 && onScreen.every((li) => li.hasAttribute("data-drawn"));
  }, { polling: "raf", timeout: 120_000 }, agents + 1);
  const cardsMs = await page.evaluate(() => new Promise<number>((r) => requestAnimationFrame(() => r(performance.now()))));
  // When the page had the data of the cards on screen (the web app marks it): the rest is rendering and drawing.
  const overviewMs = await page.evaluate(() => performance.getEntriesByName("tsmon:fleet-data")[0]?.startTime ?? NaN);
  // Then the history of every other agent, fetched in chunks behind the first paint.
  await page.waitForFunction(() => performance.getEntriesByName("tsmon:fleet-history").length > 0, { polling: 100, timeout: 120_000 });
  const historyMs = await page.evaluate(() => performance.getEntriesByName("tsmon:fleet-history")[0]!.startTime);
  const loadLongest = await page.evaluate(() => (window as unknown as { longest: number }).longest);
  await page.waitForSelector("html[data-live=subscribed]");

  // (2) Live: every agent reports every 10 s; the page's longest task meanwhile.
  await page.evaluate(() => {
    (window as unknown as { longest: number }).longest = 0;
  });
  let liveReports = 0;
  for (let c = 1; c <= cycles; c++) {
    const cycleStart = performance.now();
    const ts = Date.now();
    next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      for (let i = next++; i < hosts.length; i = next++) await send(hosts[i]!, [ts]);
    }));
    liveReports += hosts.length;
    await new Promise((r) => setTimeout(r, Math.max(0, INTERVAL - (performance.now() - cycleStart))));
  }
  const live = await page.evaluate(() => ({ longest: (window as unknown as { longest: number }).longest }));

  // (3) Host page: 1 h first, then 24 h; drawn = charts in the page, after the last /v1/metrics answer.
  await page.goto(`${server.http}/agents/${big.agentId}`, { waitUntil: "domcontentloaded" });
  await page.waitForSelector(`.charts[data-range="1h"][aria-busy=false] [data-chart=cpu] canvas`, { timeout: 120_000 });
  const host = await timeRange(page, "24h");

  // (4) What a browser downloads: every asset, gzipped as the server sends it.
  const assets = readdirSync(path.join(WEB_DIST, "assets"));
  const gz = assets.reduce((sum, f) => sum + gzipSync(readFileSync(path.join(WEB_DIST, "assets", f)), { level: 9 }).length, 0);

  console.log(`\nbench:dashboard — ${agents.toLocaleString("en")} agents with 15 min of reports and one with 24 h (95 series every 10 s), filled in ${fillSecs.toFixed(0)} s; ` +
    `headless Chromium (${await browser.version()}), 1400×900`);
  console.log(`machine: ${machineLine()}; load average ${loadStart.toFixed(1)} at the start, ${os.loadavg()[0]!.toFixed(1)} at the end (other work on the machine slows every figure)\n`);
  printTable([
    [`fleet page, ${agents} agents: navigation → all cards on screen drawn (target ≤ 1 s)`, `${cardsMs.toFixed(0)} ms (their data in at ${overviewMs.toFixed(0)} ms)`],
    [`  … every agent's 15 min history in (fetched behind the first paint)`, `${historyMs.toFixed(0)} ms; longest task until then ${loadLongest ? `${loadLongest.toFixed(0)} ms` : "none over 50 ms"}`],
    [`live, ${liveReports} reports over ${cycles} × 10 s: longest main-thread task (target ≤ 50 ms)`, live.longest ? `${live.longest.toFixed(0)} ms` : "none over 50 ms (Long Tasks API)"],
    [`host page, 24 h of 10 s data (${HOST_REPORTS} reports): charts drawn after the data arrived (target ≤ 300 ms)`, `${host.drawnMs.toFixed(0)} ms (data took ${host.fetchMs.toFixed(0)} ms)`],
    [`JavaScript + CSS, gzipped (target ≤ 150 KB)`, `${(gz / 1024).toFixed(1)} KB (${assets.length} files, each gzipped alone)`],
  ]);
} finally {
  await browser?.close();
  for (const c of channels) c.close();
  server.child.kill("SIGTERM");
  await server.exited;
  rmSync(dir, { recursive: true, force: true });
}

/** Clicks a range button; times the data (request start → last answer) and the drawing after it. */
async function timeRange(page: Page, range: string): Promise<{ fetchMs: number; drawnMs: number }> {
  const clicked = await page.evaluate((r) => {
    const button = [...document.querySelectorAll("button")].find((b) => b.textContent === r)!;
    const at = performance.now();
    button.click();
    return at;
  }, range);
  await page.waitForFunction((r) => document.querySelector(`.charts[data-range="${r}"][aria-busy=false] [data-chart=cpu] canvas`), { polling: "raf", timeout: 120_000 }, range);
  return page.evaluate((since) => new Promise<{ fetchMs: number; drawnMs: number }>((resolve) => requestAnimationFrame(() => {
    const drawn = performance.now();
    const answers = performance.getEntriesByType("resource").filter((e) => e.name.includes("/v1/metrics?") && e.startTime >= since) as PerformanceResourceTiming[];
    const arrived = Math.max(...answers.map((e) => e.responseEnd));
    resolve({ fetchMs: arrived - since, drawnMs: drawn - arrived });
  })), clicked);
}

