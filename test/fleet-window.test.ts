import test from "ava";
import { columnsFor, gridWindow } from "../web/src/lib/grid-window.ts";
import { agentGlob, nextChunk } from "../web/src/lib/overview-loader.ts";
import { FleetModel, type AgentInfo, type Overview } from "../web/src/lib/fleet-model.ts";

/*
 * The fleet page's pure parts: which cards of the windowed grid are in the DOM, which
 * agents' history is fetched next, and how a late /v1/overview reply meets live points.
 */
const grid = { width: 1376, minColumn: 250, gap: 12, rowHeight: 178 };

test("columns follow CSS auto-fill: as many minimum-width columns and gaps as fit, at least one", (t) => {
  t.is(columnsFor(1376, 250, 12), 5);
  t.is(columnsFor(1322, 250, 12), 5);
  t.is(columnsFor(1321, 250, 12), 5);
  t.is(columnsFor(1297, 250, 12), 4);
  t.is(columnsFor(366, 250, 12), 1);
  t.is(columnsFor(100, 250, 12), 1);
});

test("the window holds the rows in view plus the overscan, and the grid keeps the height of every row", (t) => {
  // 1,000 cards in 5 columns: 200 rows of 190 px (the last without its gap).
  const top = gridWindow(1000, grid, -300, 600, 2);
  t.deepEqual(top, { columns: 5, first: 0, end: 30, padTop: 0, height: 200 * 190 - 12 });
  const mid = gridWindow(1000, grid, 19_000, 19_900, 2);
  t.is(mid.first, (100 - 2) * 5);
  t.is(mid.end, (105 + 2) * 5);
  t.is(mid.padTop, 98 * 190);
  const bottom = gridWindow(1000, grid, 40_000, 40_900, 2);
  t.is(bottom.end, 1000);
  // Past the end (a list that just got shorter): the last screenful, not nothing.
  t.is(bottom.first, (200 - 5 - 2) * 5);
});

test("an empty grid or one shorter than the screen", (t) => {
  t.deepEqual(gridWindow(0, grid, 0, 900, 2), { columns: 5, first: 0, end: 0, padTop: 0, height: 0 });
  t.deepEqual(gridWindow(7, grid, -100, 800, 2), { columns: 5, first: 0, end: 7, padTop: 0, height: 2 * 190 - 12 });
});

test("the cards on screen are fetched first and alone, then the rest in page order, a chunk at a time", (t) => {
  const order = Array.from({ length: 250 }, (_, i) => `a${i}`);
  const pending = new Set(order);
  t.deepEqual(nextChunk(pending, ["a120", "a121", "a5"], order), ["a120", "a121", "a5"]);
  for (const id of ["a120", "a121", "a5"]) pending.delete(id);
  const second = nextChunk(pending, ["a120", "a121", "a5"], order);
  t.is(second.length, 25);
  t.is(second[0], "a0");
  t.false(second.includes("a5"));
  t.deepEqual(nextChunk(new Set(), ["a1"], order), []);
});

test("an agent id with a comma is asked for by a glob that still matches it", (t) => {
  t.is(agentGlob("web-1"), "web-1");
  t.is(agentGlob("odd,name"), "odd?name");
});

const info = (id: string): AgentInfo => ({ agent_id: id, active: true, last_seen: new Date(0).toISOString(), system_info: null });

test("agents come from /v1/agents; history from a later /v1/overview keeps the live points newer than it", (t) => {
  const model = new FleetModel();
  t.deepEqual(model.applyAgents([info("a"), info("b")]), { added: ["a", "b"], statusChanged: true });
  t.deepEqual(model.applyAgents([info("a"), info("b")]), { added: [], statusChanged: false });
  const now = 10_000_000;
  model.applyBatch([{ type: "report", agent_id: "a", values: [{ metric: "cpu.usage", labels: {}, value: 77, timestamp_ms: now }] }], now);
  const overview: Overview = {
    step: 30, timestamps: [now - 90_000, now - 60_000],
    agents: [{ agent_id: "a", status: "online", active: true, firing_alerts: 0, last_seen: new Date(now).toISOString(), series: [
      { metric_name: "cpu.usage", labels: {}, avg: [10, 20] },
      { metric_name: "disk.used_percent", labels: { mount: "/" }, avg: [40, null] },
      { metric_name: "disk.used_percent", labels: { mount: "/data" }, avg: [50, 55] },
    ] }],
  };
  t.deepEqual(model.ingestOverview(overview), ["a"]);
  const a = model.agents.get("a")!;
  t.deepEqual(a.cpu, { t: [now - 75_000, now - 45_000, now], v: [10, 20, 77] });
  t.deepEqual(a.disk.v, [50, 55]);
  t.true(a.history);
  t.false(model.agents.get("b")!.history);
});

test("the card holding focus keeps the rows either side of it in the DOM while it is near the window", (t) => {
  // The window of rows 0–5 (30 cards); focus on card 29, in the last row: rows 0–6.
  t.is(gridWindow(1000, grid, -300, 600, 2).end, 30);
  t.is(gridWindow(1000, grid, -300, 600, 2, 29).end, 35);
  // Focus on the first card after scrolling down two rows: the row above it stays.
  t.is(gridWindow(1000, grid, 760, 1660, 2, 10).first, 5);
  // Focus far from the view (scrolled away): the window is the view's alone.
  t.deepEqual(gridWindow(1000, grid, 19_000, 19_900, 2, 29), gridWindow(1000, grid, 19_000, 19_900, 2));
});
