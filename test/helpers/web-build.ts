import { buildWeb, webBundleStale } from "../../scripts/build-web.ts";

/** Builds web/dist when a source is newer (npm test has built it already; a lone `npx ava` may not have). */
export async function ensureWebBuilt(): Promise<void> {
  if (webBundleStale()) await buildWeb();
}
