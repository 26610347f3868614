// `npm run build:agent [-- --outdir DIR] [--pack FILE] [--version V]`: the agent as plain
// JavaScript for deployment, run with `node DIR/tsmon-agent.mjs [CONFIG] [flags]` (no tsx,
// no node_modules), or through the self-update launcher `node DIR/tsmon-agent-launcher.mjs`.
//
// One file holds the agent and what it loads on Linux; systeminformation and the
// portable collectors go into a chunk beside it that only other platforms import. The
// whole directory is the deployable unit. The launcher (agent/update/launcher-main.ts) is
// a file of its own that shares nothing with the agent's files. --pack writes the agent's
// files (not the launcher) as the .tar.gz that POST /v1/agent/releases takes.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import * as esbuild from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));

/**
 * grpc-js requires @grpc/proto-loader (and with it protobufjs, ~190 kB of source that
 * would stay resident) only to serve channelz or ORCA definitions, which a client never
 * does; the agent encodes its messages itself (agent/wire.ts). Should that path ever
 * run, it fails saying why.
 */
const withoutProtoLoader = {
  name: "without-proto-loader",
  setup(build) {
    build.onResolve({ filter: /^@grpc\/proto-loader$/ }, () => ({ path: "@grpc/proto-loader", namespace: "tsmon-stub" }));
    build.onLoad({ filter: /.*/, namespace: "tsmon-stub" }, () => ({
      loader: "js",
      contents: "exports.loadSync = () => { throw new Error('@grpc/proto-loader is left out of the tsmon agent bundle'); };",
    }));
  },
};

/** Builds into `outdir` (default dist/), as `version` (default package.json's); resolves to the entry file's path. */
export async function buildAgent({ outdir = path.join(root, "dist"), version = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).version } = {}) {
  // Chunk names carry a content hash: without this, every rebuild would leave the old ones.
  rmSync(path.join(outdir, "chunks"), { recursive: true, force: true });
  await esbuild.build({
    entryPoints: { "tsmon-agent": path.join(root, "agent/main.ts") },
    outdir,
    outExtension: { ".js": ".mjs" },
    chunkNames: "chunks/[name]-[hash]",
    bundle: true,
    splitting: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // The source stays resident in the process: minified, but with names kept so that
    // stack traces and error names still read (and a source map for `--enable-source-maps`).
    minify: true,
    keepNames: true,
    sourcemap: "linked",
    legalComments: "none",
    define: { TSMON_AGENT_VERSION: JSON.stringify(version) },
    plugins: [withoutProtoLoader],
    // Bundled CommonJS (grpc-js, pino) calls require() for Node's built-in modules.
    banner: { js: "import { createRequire as __tsmonCreateRequire } from 'node:module'; const require = __tsmonCreateRequire(import.meta.url);" },
    logLevel: "warning",
  });
  await esbuild.build({
    entryPoints: { [LAUNCHER]: path.join(root, "agent/update/launcher-main.ts") },
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    minify: true,
    keepNames: true,
    legalComments: "none",
    logLevel: "warning",
  });
  return path.join(outdir, "tsmon-agent.mjs");
}

const LAUNCHER = "tsmon-agent-launcher";

/** The agent's files in `outdir` (everything but the launcher) as a release bundle, `file` (.tar.gz). */
export function packAgent(outdir, file) {
  const entries = readdirSync(outdir).filter((f) => !f.startsWith(LAUNCHER) && (f.startsWith("tsmon-agent.mjs") || f === "chunks"));
  execFileSync("tar", ["-czf", path.resolve(file), "-C", outdir, ...entries.sort()]);
  return path.resolve(file);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values } = parseArgs({ options: { outdir: { type: "string" }, pack: { type: "string" }, version: { type: "string" } } });
  const entry = await buildAgent({ outdir: values.outdir && path.resolve(values.outdir), version: values.version });
  process.stdout.write(`built ${path.relative(process.cwd(), entry) || entry}\n`);
  if (values.pack) process.stdout.write(`packed ${packAgent(path.dirname(entry), values.pack)}\n`);
}
