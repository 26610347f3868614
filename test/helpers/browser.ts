import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "puppeteer-core";

/*
 * Headless Chromium (Debian's `chromium`, no browser download) for the dashboard tests: one
 * browser per test file, every console error and page error collected so a test can
 * assert there were none.
 */
export const CHROMIUM = process.env.TSMON_CHROMIUM ?? "/usr/bin/chromium";
export const SCREENSHOTS = fileURLToPath(new URL("../../test-output/screenshots/", import.meta.url));

/** Why browser tests cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is absent: browser tests skipped — install it with \`apt-get install -y chromium\``;
}

export async function launchBrowser(): Promise<Browser> {
  const puppeteer = await import("puppeteer-core");
  return puppeteer.launch({
    executablePath: CHROMIUM, headless: true,
    // A loaded 2-core CI box: generous protocol timeout; no sandbox as root in containers.
    protocolTimeout: 120_000,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--hide-scrollbars", "--force-color-profile=srgb"],
  });
}

export interface WatchedPage { page: Page; errors: string[] }

/** A new page whose console errors, uncaught exceptions and failed requests land in `errors`. */
export async function openPage(browser: Pick<Browser, "newPage">, width = 1400, height = 900): Promise<WatchedPage> {
  const page = await browser.newPage();
  page.setDefaultTimeout(30_000);
  await page.setViewport({ width, height });
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()} (${m.location().url ?? ""})`);
  });
  page.on("pageerror", (e) => errors.push(`pageerror: ${(e as Error).message}`));
  page.on("requestfailed", (r) => {
    // Navigating away aborts what the last page still had in flight: not an error.
    if (r.failure()?.errorText !== "net::ERR_ABORTED") errors.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`);
  });
  return { page, errors };
}

/** Signs in through the form, as a person would. */
export async function signIn(page: Page, base: string, username: string, password: string): Promise<void> {
  await page.goto(`${base}/`, { waitUntil: "domcontentloaded" });
  await fillLabelled(page, "Username", username);
  await fillLabelled(page, "Password", password);
  await clickButton(page, "Sign in");
  await page.waitForSelector("button ::-p-text(Sign out)");
}

/** Types into the input whose label reads `label`. */
export async function fillLabelled(page: Page, label: string, value: string): Promise<void> {
  const input = await page.waitForSelector(`::-p-aria(${label})`);
  await input!.click();
  await input!.evaluate((el) => (el as HTMLInputElement).select());
  await input!.press("Backspace");
  if (value) await input!.type(value);
}

export async function clickButton(page: Page, name: string): Promise<void> {
  const button = await page.waitForSelector(`::-p-aria([name="${name}"][role="button"])`);
  await button!.click();
}

/** Screenshots under test-output/screenshots/NAME.png (gitignored); returns the path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file as `${string}.png`, fullPage: true });
  return file;
}

/** Screenshots of the current page at 1400 and 390 px, back at 1400 afterwards. */
export async function shots(page: Page, name: string): Promise<void> {
  await settle(page);
  await screenshot(page, `${name}-1400`);
  await page.setViewport({ width: 390, height: 844 });
  await settle(page);
  await screenshot(page, `${name}-390`);
  await page.setViewport({ width: 1400, height: 900 });
  await settle(page);
}
/** Two animation frames: layout, resize observers and redraws have run. */
export const settle = (page: Page): Promise<unknown> => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
