import type { Page } from "puppeteer-core";
import { fillLabelled, signIn, type WatchedPage } from "./helpers/browser.ts";
import { useBrowserFixture } from "./helpers/browser-fixture.ts";
import { sendHistory } from "./helpers/web-fixture.ts";
import { TEST_ADMIN } from "../scripts/lib/test-credentials.ts";

/*
 * The fleet page with more agents than fit on a screen, in Debian's headless Chromium: the
 * card grid keeps only the rows near the viewport in the DOM, and scrolling, the filter and
 * the keyboard still reach every agent. One browser and one server for the file.
 */
const FLEET = Array.from({ length: 320 }, (_, i) => `node-${String(i).padStart(3, "0")}`);
let admin: WatchedPage;

const browserTest = useBrowserFixture({
  file: "dashboard-fleet-scale.test",
  config: { agent_active_secs: 600 },
  // Three minutes every 20 s: at least five 30 s buckets of history per sparkline.
  feed: (_server, client) => sendHistory(client, FLEET, Date.now() - 180_000, Date.now() - 5_000, 20_000),
}, async (fixture) => {
  admin = fixture.admin;
  await signIn(admin.page, fixture.server.http, TEST_ADMIN.username, TEST_ADMIN.password);
});

const cards = (page: Page) => page.$$eval("li[data-agent]", (els) => els.map((e) => e.getAttribute("data-agent")!));
/** The card is in the DOM, drawn with its history: its CPU sparkline is a line through several points. */
const drawn = (page: Page, agent: string) => page.waitForFunction((id) => {
  const d = document.querySelector(`li[data-agent="${id}"][data-drawn] svg[data-metric=cpu] path.line`)?.getAttribute("d") ?? "";
  return /^M[-\d.]+ [\d.]+(L[-\d.]+ [\d.]+){3,}$/.test(d);
}, { polling: 100 }, agent);

browserTest("fleet of 320: only the cards near the viewport are in the DOM; scrolling draws the ones that come into view", async (t) => {
  const { page, errors } = admin;
  await page.waitForSelector(`ul.cards[aria-busy=false][data-count="${FLEET.length}"]`);
  await drawn(page, FLEET[0]!);
  t.regex(await page.$eval(".counts", (e) => e.textContent ?? ""), new RegExp(`${FLEET.length} online`));
  const top = await cards(page);
  t.true(top.length > 0 && top.length < 100, `${top.length} cards in the DOM`);
  t.false(top.includes(FLEET.at(-1)!));
  t.is(await page.$eval("li[data-agent]", (e) => e.getAttribute("aria-setsize")), String(FLEET.length));
  // The page is as tall as every card would make it.
  t.true(await page.evaluate(() => document.documentElement.scrollHeight) > (FLEET.length / 6) * 178);

  await page.evaluate(() => scrollTo(0, document.documentElement.scrollHeight));
  await drawn(page, FLEET.at(-1)!);
  const bottom = await cards(page);
  t.false(bottom.includes(FLEET[0]!));
  t.is(await page.$eval(`li[data-agent="${FLEET.at(-1)}"]`, (e) => e.getAttribute("aria-posinset")), String(FLEET.length));
  await page.evaluate(() => scrollTo(0, 0));
  await drawn(page, FLEET[0]!);
  t.deepEqual(errors, []);
});

browserTest("fleet of 320: the filter finds an agent far down the list", async (t) => {
  const { page, errors } = admin;
  await fillLabelled(page, "Filter", "node-287");
  await page.waitForFunction(() => document.querySelectorAll("li[data-agent]").length === 1);
  t.deepEqual(await cards(page), ["node-287"]);
  await drawn(page, "node-287");
  t.is(await page.$eval("li[data-agent]", (e) => e.getAttribute("aria-setsize")), "1");
  await fillLabelled(page, "Filter", "");
  await page.waitForFunction((n) => document.querySelector("ul.cards")?.getAttribute("data-count") === String(n), {}, FLEET.length);
  t.deepEqual(errors, []);
});

browserTest("fleet of 320: Tab from the last card in the DOM reaches the next agent", async (t) => {
  const { page, errors } = admin;
  await page.evaluate(() => scrollTo(0, 0));
  await page.waitForSelector(`li[data-agent="${FLEET[0]}"]`);
  const last = await page.evaluate(() => {
    const items = [...document.querySelectorAll("li[data-agent]")];
    const li = items[items.length - 1]!;
    li.querySelector<HTMLAnchorElement>("a.agent-id")!.focus();
    return Number(li.getAttribute("aria-posinset"));
  });
  t.true(last < FLEET.length);
  // Each Tab moves to the next card's link, past the cards that were in the DOM at first.
  for (let k = 1; k <= 12; k++) {
    await page.keyboard.press("Tab");
    await page.waitForFunction((want) => {
      const a = document.activeElement;
      return a?.matches("a.agent-id") && a.closest("li")?.getAttribute("aria-posinset") === String(want);
    }, {}, last + k);
  }
  t.is(await page.evaluate(() => document.activeElement?.textContent), FLEET[last + 11]);
  t.deepEqual(errors, []);
});
