import test from "ava";
import type { Browser } from "puppeteer-core";
import { chromiumMissing, launchBrowser, openPage, type WatchedPage } from "./browser.ts";
import { ProtoClient } from "./proto-client.ts";
import { startTestServer, type TestServer } from "./server.ts";
import { ensureWebBuilt } from "./web-build.ts";

export interface BrowserFixture { server: TestServer; client: ProtoClient; browser: Browser; admin: WatchedPage }

export interface BrowserFixtureOptions {
  /** Named in the warning when Chromium is absent. */
  file: string;
  config: Parameters<typeof startTestServer>[0];
  /** Fills the server over gRPC before the browser starts. */
  feed(server: TestServer, client: ProtoClient): Promise<void>;
}

/**
 * The hooks every dashboard test file shares: the web bundle built, one server fed over real
 * gRPC, one browser with a first page (`admin`, not yet signed in), all stopped after the
 * file. `ready` receives them at the end of `before` (and may sign in, say). Returns the test function to use:
 * serial, or a loud skip when Debian's chromium is absent.
 */
export function useBrowserFixture(options: BrowserFixtureOptions, ready: (fixture: BrowserFixture) => void | Promise<void>): typeof test.serial | typeof test.skip {
  const missing = chromiumMissing();
  if (missing) console.warn(`[${options.file}] ${missing}`);
  const started: Partial<BrowserFixture> = {};
  test.before(async () => {
    if (missing) return;
    await ensureWebBuilt();
    const server = started.server = await startTestServer(options.config);
    const client = started.client = new ProtoClient(server.grpc);
    await options.feed(server, client);
    const browser = started.browser = await launchBrowser();
    await ready({ server, client, browser, admin: await openPage(browser) });
  });
  test.after.always(async () => {
    await started.browser?.close();
    started.client?.close();
    await started.server?.stop();
  });
  return missing ? test.skip : test.serial;
}
