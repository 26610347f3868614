import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/*
 * `npm run build:web [-- --if-stale]`: the dashboard (web/src) bundled by esbuild into
 * web/dist — JS and CSS with content-hashed names (served as immutable) and an index.html
 * naming them (served no-cache). `npm install` and `npm start` call it with --if-stale,
 * which builds only when a source is newer than the bundle.
 */
const root = fileURLToPath(new URL("..", import.meta.url));
const webDir = path.join(root, "web");
export const WEB_DIST = path.join(webDir, "dist");

/** Newest modification time under `dir` (0 when absent). */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** True when web/dist is missing or older than a source, this script or the lockfile. */
export function webBundleStale(): boolean {
  let built: number;
  try {
    built = statSync(path.join(WEB_DIST, "index.html")).mtimeMs;
  } catch {
    return true;
  }
  const sources = [newestMtime(path.join(webDir, "src")), statSync(fileURLToPath(import.meta.url)).mtimeMs, statSync(path.join(root, "package-lock.json")).mtimeMs];
  return sources.some((t) => t > built);
}

/** Builds web/dist; resolves to the names of the files written. */
export async function buildWeb(): Promise<string[]> {
  const esbuild = await import("esbuild");
  // Built beside web/dist and swapped in, so a server starting meanwhile reads a whole build.
  const staging = `${WEB_DIST}.building-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const result = await esbuild.build({
    entryPoints: { app: path.join(webDir, "src/main.tsx") },
    outdir: path.join(staging, "assets"),
    entryNames: "[name]-[hash]",
    assetNames: "[name]-[hash]",
    // Splitting: pages the app imports dynamically become chunks fetched when first shown.
    bundle: true, splitting: true, minify: true, format: "esm", target: "es2022", sourcemap: false,
    jsx: "automatic", jsxImportSource: "preact",
    tsconfig: path.join(webDir, "tsconfig.json"),
    metafile: true, logLevel: "warning",
  });
  const toDist = (p: string) => path.relative(staging, path.resolve(root, p)).split(path.sep).join("/");
  const outputs = Object.keys(result.metafile.outputs).map(toDist);
  const entry = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint !== undefined);
  if (!entry) throw new Error("esbuild wrote no JavaScript for web/src/main.tsx");
  const [js, { cssBundle, imports }] = [toDist(entry[0]), entry[1]];
  const css = cssBundle && toDist(cssBundle);
  // The chunks the entry imports statically, fetched alongside it rather than after it runs.
  const preload = imports.filter((i) => i.kind === "import-statement").map((i) => `/${toDist(i.path)}`);
  writeFileSync(path.join(staging, "index.html"), indexHtml(`/${js}`, css && `/${css}`, preload));
  const old = `${WEB_DIST}.old-${process.pid}`;
  try {
    renameSync(WEB_DIST, old);
  } catch {
    /* no previous build */
  }
  try {
    renameSync(staging, WEB_DIST);
  } catch (err) {
    // Another build (a parallel test process) put its own there first: the same sources, keep it.
    if (!(err as NodeJS.ErrnoException).code?.startsWith("ENOTEMPTY") && (err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    rmSync(staging, { recursive: true, force: true });
  }
  rmSync(old, { recursive: true, force: true });
  return [...outputs, "index.html"];
}

function indexHtml(js: string, css: string | undefined, preload: string[]): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>tsmon</title>
<link rel="icon" href="data:,">
${css ? `<link rel="stylesheet" href="${css}">\n` : ""}${preload.map((p) => `<link rel="modulepreload" href="${p}">\n`).join("")}<script type="module" src="${js}"></script>
</head>
<body><div id="app"></div><noscript>The tsmon dashboard needs JavaScript; the API is at /v1 and its documentation at /docs.</noscript></body>
</html>
`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--if-stale") && !webBundleStale()) {
    console.log("[tsmon] dashboard bundle is up to date (web/dist)");
  } else {
    try {
      const files = await buildWeb();
      console.log(`[tsmon] dashboard built: ${files.map((f) => `web/dist/${f}`).join(", ")}`);
    } catch (err) {
      console.error(`[tsmon] the dashboard could not be built: ${(err as Error).message}\n  run \`npm install\` (with dev dependencies) and \`npm run build:web\``);
      // An install without dev dependencies (npm ci --omit=dev) has no esbuild: it must not
      // fail for that; the server then answers / with how to build the dashboard.
      const noEsbuild = (err as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" && /esbuild/.test((err as Error).message);
      process.exit(noEsbuild && process.argv.includes("--if-stale") ? 0 : 1);
    }
  }
}
