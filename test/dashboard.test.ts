import type { Browser, Page } from "puppeteer-core";
import { adminFetch, type TestServer } from "./helpers/server.ts";
import { clickButton, fillLabelled, openPage, screenshot, settle, shots, signIn, type WatchedPage } from "./helpers/browser.ts";
import { useBrowserFixture } from "./helpers/browser-fixture.ts";
import type { ProtoClient } from "./helpers/proto-client.ts";
import { DASHBOARD_AGENTS as AGENTS, DASHBOARD_EXTRA as EXTRA, DASHBOARD_OFFLINE as OFFLINE, DASHBOARD_VIEWER as VIEWER, feedDashboard, hostReport } from "./helpers/web-fixture.ts";
import { TEST_ADMIN } from "../scripts/lib/test-credentials.ts";

/*
 * The dashboard in Debian's headless Chromium against a real server fed over real gRPC:
 * sign in, live fleet cards, the host page's charts and stats for each range, the rule
 * editor, settings, and a viewer who sees no write controls. Screenshots of every page at
 * 1400 and 390 px go to test-output/screenshots/. One browser for the whole file.
 */
let server: TestServer;
let client: ProtoClient;
let browser: Browser;
let admin: WatchedPage;

const browserTest = useBrowserFixture({
  file: "dashboard.test",
  config: {
    agent_active_secs: 120, retention_days: 30,
    alert: { rules: [{ name: "hot-cpu", type: "threshold", metric: "cpu.usage", agent_pattern: "web-*", operator: "gt", value: 95, duration_secs: 0, severity: "critical" }] },
  },
  feed: feedDashboard,
}, (fixture) => { ({ server, client, browser, admin } = fixture); });

/** A card's CPU sparkline (an SVG whose line path holds the points). */
const cpuSpark = (agent: string) => `li[data-agent="${agent}"] svg[data-metric="cpu"]`;
const waitLive = (page: Page) => page.waitForSelector("html[data-live=subscribed]");

browserTest("sign in: the API's error as written, then the fleet; sign out and in again", async (t) => {
  const { page, errors } = admin;
  await page.goto(`${server.http}/`);
  await page.waitForSelector("::-p-aria(Username)");
  await shots(page, "login");
  await fillLabelled(page, "Username", TEST_ADMIN.username);
  await fillLabelled(page, "Password", "not-the-password");
  await clickButton(page, "Sign in");
  const shown = await page.waitForSelector("form [role=alert]");
  const apiSays = await (await fetch(`${server.http}/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: TEST_ADMIN.username, password: "not-the-password" }) })).json() as { error: string };
  t.is(await shown!.evaluate((el) => el.textContent), apiSays.error);
  // The refused login is the one expected failed request (Chromium logs any 401).
  t.true(errors.every((e) => /401/.test(e)), errors.join("\n"));
  errors.length = 0;
  await signIn(page, server.http, TEST_ADMIN.username, TEST_ADMIN.password);
  await page.waitForSelector(cpuSpark("web-1"));
  await clickButton(page, "Sign out");
  await page.waitForSelector("::-p-aria(Username)");
  await signIn(page, server.http, TEST_ADMIN.username, TEST_ADMIN.password);
  t.deepEqual(errors, []);
});

browserTest("fleet: a card per agent whose CPU sparkline moves with the next report", async (t) => {
  const { page, errors } = admin;
  await page.waitForSelector(cpuSpark("web-1"));
  await waitLive(page);
  t.deepEqual(await page.$$eval("li[data-agent]", (els) => els.map((e) => e.getAttribute("data-agent"))), [...AGENTS, ...EXTRA, OFFLINE].sort());
  t.regex(await page.$eval(".counts", (e) => e.textContent ?? ""), /8 online 1 offline 0 alerting/);
  t.is(await page.$eval(`li[data-agent="${OFFLINE}"] [data-testid=status]`, (e) => e.textContent), "offline");
  const line = (sel: string) => document.querySelector(`${sel} path.line`)?.getAttribute("d") ?? "";
  const before = await page.evaluate(line, cpuSpark("web-1"));
  t.regex(before, /^M[-\d.]+ [\d.]+(L[-\d.]+ [\d.]+){10,}$/, "an hour of points drawn as a line");
  await client.report(hostReport("web-1", Date.now(), 88));
  await page.waitForFunction((sel, old) => {
    const d = document.querySelector(`${sel} path.line`)?.getAttribute("d");
    return d && d !== old && document.querySelector(sel)?.parentElement?.querySelector(".spark-value")?.textContent === "88%";
  }, { timeout: 30_000, polling: 100 }, cpuSpark("web-1"), before);
  t.pass();
  await fillLabelled(page, "Filter", "db");
  await page.waitForFunction(() => document.querySelectorAll("li[data-agent]").length === 1);
  await fillLabelled(page, "Filter", "");
  await page.select("select", "cpu");
  await page.waitForFunction(() => document.querySelector("li[data-agent]")?.getAttribute("data-agent") === "web-1");
  await page.select("select", "name");
  t.deepEqual(errors, []);
});

browserTest("fleet: a breach turns the card's badge to alerting without a reload", async (t) => {
  const { page, errors } = admin;
  const badge = `li[data-agent="web-2"] [data-testid=status]`;
  t.is(await page.$eval(badge, (e) => e.textContent), "online");
  await waitLive(page);
  await client.report(hostReport("web-2", Date.now(), 99));
  await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === "alerting", { timeout: 10_000 }, badge);
  await page.waitForFunction(() => /1 alerting/.test(document.querySelector(".counts")?.textContent ?? ""));
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await shots(page, "fleet");
  // The theme follows the system: the same page with prefers-color-scheme: dark.
  await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "dark" }]);
  t.not(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), "rgb(246, 247, 249)");
  await screenshot(page, "fleet-dark-1400");
  await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "light" }]);
  t.deepEqual(errors, []);
});

/** True when the chart's canvas holds pixels of its first series' colour (#3b82f6): a line was drawn. */
const chartDrawn = (page: Page, id: string) => page.$eval(`[data-chart="${id}"] canvas`, (el) => {
  const c = el as HTMLCanvasElement;
  const px = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
  let hits = 0;
  for (let i = 0; i < px.length; i += 4) if (Math.abs(px[i]! - 59) < 24 && Math.abs(px[i + 1]! - 130) < 24 && Math.abs(px[i + 2]! - 246) < 24 && px[i + 3]! > 200) hits++;
  return hits;
});

/** The stats table next to /v1/metrics/stats over the same from/to, to two decimals. */
async function statsMatchApi(t: import("ava").ExecutionContext, page: Page): Promise<void> {
  const table = await page.$eval("table.stats", (el) => ({
    from: el.getAttribute("data-from")!, to: el.getAttribute("data-to")!,
    rows: [...el.querySelectorAll("tbody tr[data-metric]")].map((tr) => ({
      metric: tr.getAttribute("data-metric")!, labels: tr.getAttribute("data-labels")!, cells: [...tr.querySelectorAll("td")].map((td) => td.textContent),
    })),
  }));
  const expected = [];
  for (const metric of ["cpu.usage", "memory.used_percent", "disk.used_percent", "load.load_1"]) {
    const res = await adminFetch(`${server.http}/v1/metrics/stats?agent=web-1&metric=${metric}&from=${table.from}&to=${table.to}`);
    const body = await res.json() as { series: { labels: Record<string, string>; min: number; max: number; avg: number; p95: number; p99: number }[] };
    for (const s of body.series) expected.push({ metric, labels: JSON.stringify(s.labels), cells: [s.min, s.max, s.avg, s.p95, s.p99].map((v) => v.toFixed(2)) });
  }
  t.true(expected.length >= 5, "cpu, memory, two disks and load");
  t.deepEqual(table.rows, expected);
}

browserTest("host page: gauges, charts drawn, and stats equal to /v1/metrics/stats for 1 h, 24 h and 7 d", async (t) => {
  const { page, errors } = admin;
  await page.click(`li[data-agent="web-1"] a.agent-id`);
  await page.waitForSelector(`.charts[data-range="1h"][aria-busy=false] [data-chart=cpu] canvas`);
  await page.waitForSelector("table.stats");
  t.regex(await page.$eval("h1", (e) => e.textContent ?? ""), /web-1/);
  t.regex(await page.$eval(".facts", (e) => e.textContent ?? ""), /Debian GNU\/Linux 13/);
  t.regex(await page.$eval("[data-gauge=CPU]", (e) => e.textContent ?? ""), /%$/);
  for (const id of ["cpu", "memory", "disk", "cpu-cores", "disk-io", "network", "load"]) t.true(await chartDrawn(page, id) > 20, `${id} chart has its line`);
  await statsMatchApi(t, page);
  const checks = await page.$$eval("table.host-checks tbody tr", (trs) => trs.map((tr) => [tr.getAttribute("data-check"), tr.querySelector(".badge")?.textContent, tr.cells[3]?.textContent]));
  t.deepEqual(checks.slice(0, 2), [["db-port", "down", "–"], ["api", "up", "12.5 ms"]], "down first");
  t.deepEqual(checks.slice(2).map((c) => c[0]), ["gw", "mesh:web-2"]);
  await shots(page, "host");
  for (const range of ["24h", "7d"]) {
    const before = await page.$eval("table.stats", (e) => e.getAttribute("data-from"));
    await clickButton(page, range);
    await page.waitForSelector(`.charts[data-range="${range}"][aria-busy=false] [data-chart=cpu] canvas`);
    await page.waitForFunction((old) => { const s = document.querySelector("table.stats"); return s && s.getAttribute("data-from") !== old; }, {}, before);
    t.true(await chartDrawn(page, "cpu") > 20, `${range}: the CPU chart has its line`);
    await statsMatchApi(t, page);
  }
  // 7 d reaches the week-old reports: the stats saw more than the last hour's 360.
  t.deepEqual(errors, []);
});

browserTest("alerts: acknowledging an alert, and a rule made in the editor (after a Preview) is in /v1/alerts/rules", async (t) => {
  const { page, errors } = admin;
  await page.click(`nav a[href="/alerts"]`);
  await page.waitForSelector("table.rules");
  // Acknowledge web-2's firing alert (the breach above), with a note typed into the prompt.
  page.once("dialog", (d) => void d.accept("on it"));
  const ack = await page.waitForSelector(`li.alert button[aria-label^="Acknowledge"]`);
  await ack!.click();
  await page.waitForSelector(`li.alert .ack ::-p-text(acknowledged by admin: on it)`);
  const active = await (await adminFetch(`${server.http}/v1/alerts/active`)).json() as { agent_id: string; acknowledged_by: string | null }[];
  t.like(active.find((a) => a.agent_id === "web-2"), { acknowledged_by: "admin" });
  // Silence it for 2 hours: the alert says until when, the Silences panel lists it.
  page.once("dialog", (d) => void d.accept("2h"));
  await (await page.waitForSelector(`li.alert button[aria-label^="Silence"]`))!.click();
  await page.waitForSelector(`li.alert .silenced`);
  await page.waitForSelector(`table.silences th ::-p-text(agent web-2)`);
  const silences = await (await adminFetch(`${server.http}/v1/alerts/silences`)).json() as { agent_id: string; ends_at: string; created_by: string }[];
  t.is(silences.length, 1);
  t.like(silences[0], { agent_id: "web-2", created_by: "admin" });
  const lasts = Date.parse(silences[0]!.ends_at) - Date.now();
  t.true(lasts > 7_000_000 && lasts <= 7_200_000, `two hours, got ${lasts} ms`);
  // A silence window from the form.
  await (await page.waitForSelector(`::-p-aria([name="Note"][role="textbox"])`))!.type("nightly backups");
  await clickButton(page, "Add window");
  await page.waitForSelector(`table.windows td ::-p-text(nightly backups)`);
  const windows = await (await adminFetch(`${server.http}/v1/notifications/silences`)).json() as { start_time: string; end_time: string; recurrence: string; note: string }[];
  t.like(windows.find((w) => w.note === "nightly backups"), { start_time: "22:00", end_time: "06:00", recurrence: "daily" });
  await clickButton(page, "New rule");
  await fillLabelled(page, "Name", "disk-nearly-full");
  await fillLabelled(page, "Metric", "disk.used_percent");
  // A threshold every disk crosses first: the preview counts episodes and shades them on the chart.
  await fillLabelled(page, "Threshold", "50");
  await fillLabelled(page, "For (seconds)", "0");
  await clickButton(page, "Preview");
  await page.waitForSelector(`.preview figure[data-chart="backtest"] canvas`);
  const fired = await page.$eval(".preview p strong", (e) => Number(e.textContent));
  t.true(fired >= 1, `a 50 % disk threshold would have fired, the preview says ${fired}`);
  await settle(page);
  await (await page.$(".preview"))!.screenshot({ path: "test-output/screenshots/alerts-backtest-1400.png" });
  await fillLabelled(page, "Threshold", "85");
  await clickButton(page, "Preview");
  await page.waitForSelector(".preview ::-p-text(Would have fired 0 times)");
  await page.waitForSelector(`.preview figure[data-chart="backtest"] canvas`);
  await shots(page, "alerts");
  await clickButton(page, "Create rule");
  await page.waitForSelector(`tr[data-rule] ::-p-text(disk-nearly-full)`);
  const rules = await (await adminFetch(`${server.http}/v1/alerts/rules`)).json() as { name: string; metric: string; operator: string; value: number; source: string }[];
  const made = rules.find((r) => r.name === "disk-nearly-full");
  t.like(made, { metric: "disk.used_percent", operator: "gt", value: 85, source: "api" });
  t.deepEqual(errors, []);
});

browserTest("settings: adding an agent shows its token once with a copy button and the command line", async (t) => {
  const { page, errors } = admin;
  await page.click(`nav a[href="/settings"]`);
  await fillLabelled(page, "Agent id", "edge-7");
  await clickButton(page, "Add agent");
  const secret = await page.waitForSelector("#one-time-secret");
  const token = await secret!.evaluate((e) => e.textContent ?? "");
  t.true(token.length > 16);
  t.regex(await page.$eval(".ok-note:has(#one-time-secret)", (e) => e.textContent ?? ""), new RegExp(`--agent-id edge-7 --token ${token}`));
  await page.waitForSelector(`::-p-aria([name="Copy"][role="button"])`);
  const listed = await (await adminFetch(`${server.http}/v1/agents/whitelist`)).json() as { agent_id: string }[];
  t.true(listed.some((a) => a.agent_id === "edge-7"));
  await shots(page, "settings");
  t.deepEqual(errors, []);
});

browserTest("network: the matrix of agents × targets by state, a check's latency and loss, and its last traced path", async (t) => {
  const { page, errors } = admin;
  await page.click(`nav a[href="/network"]`);
  await page.waitForSelector("table.matrix");
  const cells = await page.$$eval("table.matrix tbody tr", (trs) => Object.fromEntries(trs.map((tr) => [tr.getAttribute("data-source"),
    Object.fromEntries([...tr.querySelectorAll("td")].map((td) => [td.getAttribute("data-column"), td.getAttribute("data-state")]))])));
  t.deepEqual(cells, {
    "web-1": { "agent:web-1|icmp": "unknown", "agent:web-2|icmp": "ok", "check:api": "ok", "check:db-port": "down", "check:gw": "ok" },
    "web-2": { "agent:web-1|icmp": "lossy", "agent:web-2|icmp": "unknown", "check:api": "unknown", "check:db-port": "unknown", "check:gw": "down" },
  });
  // The gateway's history: both agents' latency drawn, web-2's down period shaded, the traced path.
  await (await page.waitForSelector(`table.matrix thead button ::-p-text(gw)`))!.click();
  await page.waitForSelector(`[data-chart="check-rtt"] canvas`);
  await page.waitForSelector(`[data-chart="check-loss"] canvas`);
  const hops = await page.$$eval(".hops li", (lis) => lis.map((li) => li.textContent));
  t.deepEqual(hops, ["10.0.0.10.4 ms  0.5 ms  0.4 ms", "192.168.7.11.9 ms  *  2.2 ms", "**  *  *"]);
  t.regex(await page.$eval(".trace figcaption", (e) => e.textContent ?? ""), /web-2.*10\.0\.0\.254/);
  await shots(page, "network");
  t.deepEqual(errors, []);
});

browserTest("reports: the last 24 hours of every host, each row as /v1/reports answers it", async (t) => {
  const { page, errors } = admin;
  await page.click(`nav a[href="/reports"]`);
  await clickButton(page, "Last 24 hours");
  const asked = page.waitForResponse((r) => r.url().includes("/v1/reports?"));
  await clickButton(page, "Build report");
  // The answer the page drew (asked again later, "now" would have moved on).
  const response = await asked;
  t.is(response.status(), 200);
  const api = await response.json() as { hosts: { agent_id: string; availability_percent: number | null; alerts: number }[] };
  await page.waitForSelector(`table.report-hosts tr[data-agent="web-1"]`);
  const rows = await page.$$eval("table.report-hosts tbody tr", (trs) => trs.map((tr) => [...tr.querySelectorAll("th, td")].map((c) => c.textContent ?? "")));
  t.deepEqual(rows.map((r) => r[0]), api.hosts.map((h) => h.agent_id));
  t.deepEqual(rows.map((r) => [r[1], r[2]]), api.hosts.map((h) => [h.availability_percent === null ? "–" : `${h.availability_percent.toFixed(2)}%`, String(h.alerts)]));
  t.true(api.hosts.find((h) => h.agent_id === "web-2")!.alerts >= 1, "the breach on web-2 (an earlier test) is counted");
  await page.waitForSelector(`::-p-aria([name="Download CSV"][role="button"])`);
  await shots(page, "reports");
  t.deepEqual(errors, []);
});

browserTest("alerts: a reachability rule from the editor — its own fields, refused with the reason before sending or by the server, then in /v1/alerts/rules", async (t) => {
  const { page, errors } = admin;
  // A server-managed check that web-1 and web-2 run: k may be 1 or 2.
  const check = await adminFetch(`${server.http}/v1/checks`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "db-port", type: "tcp", target: "db.example", port: 5432, agent_pattern: "web-*" }) });
  t.is(check.status, 201, await check.text());
  const storedNames = async () => ((await (await adminFetch(`${server.http}/v1/alerts/rules`)).json()) as { name: string }[]).map((r) => r.name);
  const before = await storedNames();
  await page.click(`nav a[href="/alerts"]`);
  await page.waitForSelector("table.rules");
  await clickButton(page, "New rule");
  await fillLabelled(page, "Name", "db-unreachable");
  await page.select(".editor select[name=type]", "reachability");
  await page.waitForSelector(".editor select[name=check] option[value=db-port]");
  // Its fields, not the metric's: no Metric, Operator or Threshold input; Preview says why it cannot run.
  t.deepEqual(await page.$$eval(".editor input[name=metric], .editor [name=operator], .editor [name=value]", (els) => els.length), 0);
  t.true(await page.$eval(".editor button ::-p-text(Preview)", (b) => (b as HTMLButtonElement).disabled));
  t.regex(await page.$eval("#no-preview", (e) => e.textContent ?? ""), /Preview is not available for reachability rules/);
  const alertText = () => page.$eval(".editor [role=alert]", (e) => e.textContent ?? "");
  // No check chosen: the editor says so and sends nothing.
  await clickButton(page, "Create rule");
  await page.waitForSelector(".editor [role=alert]");
  t.is(await alertText(), "Choose the check the rule watches (Check).");
  await page.select(".editor select[name=check]", "db-port");
  await page.waitForSelector("#rule-check-note ::-p-text(run by 2 agents)");
  // More failing agents than run the check: it could never fire.
  await fillLabelled(page, "Minimum failing agents", "3");
  await clickButton(page, "Create rule");
  await page.waitForFunction(() => /only 2 agents run check db-port \(web-1, web-2\)/.test(document.querySelector(".editor [role=alert]")?.textContent ?? ""));
  await shots(page, "alerts-reachability-error");
  t.deepEqual(await storedNames(), before, "nothing stored");
  // A refusal the form does not foresee (a name over 200 characters): the server's message as written.
  const longName = "n".repeat(201);
  await page.$eval(".editor input[name=name]", (el, v) => { (el as HTMLInputElement).value = v; }, longName);
  await fillLabelled(page, "Minimum failing agents", "2");
  const apiSays = await (await adminFetch(`${server.http}/v1/alerts/rules`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: longName, type: "reachability", check: "db-port", min_failing_agents: 2 }) })).json() as { error: string };
  await clickButton(page, "Create rule");
  await page.waitForFunction((msg) => document.querySelector(".editor [role=alert]")?.textContent === msg, {}, apiSays.error);
  t.regex(apiSays.error, /^name: /);
  t.deepEqual(await storedNames(), before, "nothing stored");
  t.true(errors.every((e) => /status of 400/.test(e)), errors.join("\n"));
  errors.length = 0;
  // Valid: created, listed with its condition, and stored with the fields the form shows.
  await fillLabelled(page, "Name", "db-unreachable");
  await fillLabelled(page, "For (seconds)", "30");
  await page.select(".editor select[name=severity]", "critical");
  await clickButton(page, "Create rule");
  const name = await page.waitForSelector(`tr[data-rule] th ::-p-text(db-unreachable)`);
  t.is(await name!.evaluate((th) => (th.closest("tr") as HTMLTableRowElement).cells[2]?.textContent), "db-port down on ≥ 2 agents for 30 s");
  const rules = await (await adminFetch(`${server.http}/v1/alerts/rules`)).json() as Record<string, unknown>[];
  const made = rules.find((r) => r.name === "db-unreachable");
  t.like(made, { type: "reachability", metric: "check.up", check: "db-port", min_failing_agents: 2, duration_secs: 30, severity: "critical", agent_pattern: "*", enabled: true, source: "api" });
  // Editing it shows the same fields back.
  await (await page.waitForSelector(`::-p-aria([name="Edit rule db-unreachable"][role="button"])`))!.click();
  await page.waitForSelector(".editor select[name=check] option[value=db-port]");
  t.deepEqual(await page.$eval(".editor", (f) => ({ check: (f.querySelector("[name=check]") as HTMLSelectElement).value, k: (f.querySelector("[name=min_failing_agents]") as HTMLInputElement).value })), { check: "db-port", k: "2" });
  await clickButton(page, "Cancel");
  t.deepEqual(errors, []);
});

/** Each page and what shows it is drawn, for the narrow-screen check. */
const PAGES = [
  ["/", cpuSpark("web-1")], ["/agents/web-1", "table.stats"], ["/alerts", "table.rules tbody tr"], ["/network", "table.matrix"],
  ["/reports", "form button[type=submit]"], ["/settings", "section[aria-labelledby=certificates] table"],
] as const;

browserTest("390 px wide: no page scrolls sideways and no table but the matrix scrolls inside its box", async (t) => {
  const { page, errors } = admin;
  await page.setViewport({ width: 390, height: 844 });
  try {
    for (const [path, ready] of PAGES) {
      await page.evaluate((p) => { history.pushState(null, "", p); dispatchEvent(new PopStateEvent("popstate")); }, path);
      await page.waitForSelector(ready);
      if (path === "/reports") {
        await clickButton(page, "Build report");
        await page.waitForSelector("table.report-hosts tbody tr");
      }
      if (path === "/alerts") {
        await clickButton(page, "New rule");
        await page.select(".editor select[name=type]", "reachability");
        await page.waitForFunction(() => !/^Loading/.test(document.querySelector("#rule-check-note")?.textContent ?? "Loading"));
      }
      await settle(page);
      t.true(await page.evaluate(() => document.documentElement.scrollWidth) <= 390, `${path}: the page is wider than 390 px`);
      const wide = await page.$$eval(".table-wrap:not(:has(table.matrix))", (els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => `${e.querySelector("table")?.className || "table"}: ${e.scrollWidth} px in ${e.clientWidth}`));
      t.deepEqual(wide, [], `${path}: tables scroll sideways`);
      await screenshot(page, `narrow${path === "/" ? "-fleet" : path.replaceAll("/", "-")}-390`);
    }
  } finally {
    await page.setViewport({ width: 1400, height: 900 });
  }
  t.deepEqual(errors, []);
});

browserTest("a viewer sees every page and no write control", async (t) => {
  const context = await browser.createBrowserContext();
  try {
    const viewer = await openPage(context);
    const { page, errors } = viewer;
    await signIn(page, server.http, VIEWER.username, VIEWER.password);
    await page.waitForSelector(cpuSpark("web-1"));
    for (const [path, ready] of [["/", cpuSpark("web-1")], ["/agents/web-1", "table.stats"], ["/alerts", "table.rules"], ["/settings", "section[aria-labelledby=certificates] table"], ["/reports", "form button[type=submit]"]] as const) {
      await page.evaluate((p) => { history.pushState(null, "", p); dispatchEvent(new PopStateEvent("popstate")); }, path);
      await page.waitForSelector(ready);
      t.is(await page.$$eval(".write", (els) => els.length), 0, `${path}: no write control`);
      t.is(await page.$$eval("button", (els) => els.filter((b) => /^(New rule|Add |Create |Delete|Edit|Remove|Send test)/.test(b.textContent ?? "")).length), 0, path);
    }
    t.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

browserTest("every control has an accessible name", async (t) => {
  const { page } = admin;
  for (const path of ["/", "/agents/web-1", "/alerts", "/settings", "/reports"]) {
    await page.evaluate((p) => { history.pushState(null, "", p); dispatchEvent(new PopStateEvent("popstate")); }, path);
    await page.waitForSelector("main h1");
    await settle(page);
    const unnamed = await page.evaluate(async () => {
      const out: string[] = [];
      for (const el of document.querySelectorAll("button, a[href], input, select, textarea")) {
        const labelled = el.getAttribute("aria-label") || el.closest("label") || (el.id && document.querySelector(`label[for="${el.id}"]`)) || (el.textContent ?? "").trim();
        if (!labelled) out.push(el.outerHTML.slice(0, 80));
      }
      return out;
    });
    t.deepEqual(unnamed, [], path);
  }
});
