// `npm run release`: a distributable tarball under dist/, run with plain node (no tsx):
//   dist/tsmon-<version>-linux-x64.tar.gz and its .sha256
// holding the server and agent compiled to JavaScript (tsc, tsconfig.release.json), the
// agent also as its single-file bundle (dist/tsmon-agent.mjs, preferred by bin/tsmon-agent.js),
// the web UI when web/ can be built, example configs, systemd units, the install script,
// docs, LICENSE and the production node_modules (lmdb's native build is per platform,
// hence the platform in the name).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { buildAgent } from "./build-agent.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
/** Needed only to run from a checkout (tsx) or to build; a release runs compiled JavaScript. */
const BUILD_ONLY_DEPENDENCIES = ["tsx", "typescript"];
/** Copied as they are into the release. */
const FILES = ["LICENSE", "README.md", "CONTRIBUTING.md", "docs", "proto", "bin", "deploy", "scripts/install.sh"];

const log = (line) => process.stdout.write(`[release] ${line}\n`);
const run = (cmd, args, cwd = root) => execFileSync(cmd, args, { cwd, stdio: ["ignore", "inherit", "inherit"] });

/** Every file under `dir`. */
function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/**
 * tsc rewrites the import specifiers (rewriteRelativeImportExtensions) but not the module
 * URLs that start worker threads (`new URL("./ingest.worker.ts", import.meta.url)`) nor the
 * glob swagger-jsdoc reads the routes' @openapi blocks from: those point at .js here.
 */
export function rewriteTsUrls(source) {
  return source.replace(/(["'`])(\.{1,2}\/[^"'`\s]*?)\.ts\1/g, "$1$2.js$1");
}

/** The web UI, when another part of the tree provides one; otherwise a note says why not. */
function buildWeb(stage) {
  const web = path.join(root, "web");
  const pkgFile = path.join(web, "package.json");
  const rootPkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
  const webPkg = existsSync(pkgFile) ? JSON.parse(readFileSync(pkgFile, "utf8")) : undefined;
  const script = webPkg?.scripts?.build ? ["--prefix", web, "run", "build"] : rootPkg.scripts?.["build:web"] ? ["run", "build:web"] : undefined;
  if (!existsSync(web) || !script) {
    log("web UI: skipped (no web/ with a build script, nor a build:web script, in this tree)");
    return false;
  }
  run("npm", script);
  const out = ["dist", "build"].map((d) => path.join(web, d)).find((d) => existsSync(d));
  if (!out) throw new Error("web UI: the build ran but left neither web/dist nor web/build");
  // Where the compiled server looks for it (server/http/static-web.ts: ../../web/dist).
  cpSync(out, path.join(stage, "web", "dist"), { recursive: true });
  log(`web UI: built and copied from ${path.relative(root, out)}`);
  return true;
}

export async function release({ outDir = path.join(root, "dist"), platform = `${process.platform}-${process.arch}` } = {}) {
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
  const name = `tsmon-${pkg.version}-${platform}`;
  const work = path.join(outDir, "release-work");
  const stage = path.join(work, name);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });

  log(`compiling server, agent and common to JavaScript (tsc -p tsconfig.release.json)`);
  const compiled = path.join(work, "compiled");
  run(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.release.json", "--outDir", compiled]);
  for (const file of walk(compiled)) {
    if (file.endsWith(".js")) writeFileSync(file, rewriteTsUrls(readFileSync(file, "utf8")));
  }
  cpSync(compiled, stage, { recursive: true });

  log("bundling the agent into one file (dist/tsmon-agent.mjs)");
  await buildAgent({ outdir: path.join(stage, "dist") });

  buildWeb(stage);

  for (const f of FILES) if (existsSync(path.join(root, f))) cpSync(path.join(root, f), path.join(stage, f), { recursive: true });
  mkdirSync(path.join(stage, "config"), { recursive: true });
  for (const f of readdirSync(path.join(root, "config")).filter((f) => f.endsWith(".example.toml"))) cpSync(path.join(root, "config", f), path.join(stage, "config", f));

  log("installing the production dependencies (npm install --omit=dev, offline first)");
  const dependencies = Object.fromEntries(Object.entries(pkg.dependencies).filter(([d]) => !BUILD_ONLY_DEPENDENCIES.includes(d)));
  const releasePkg = {
    name: pkg.name, version: pkg.version, description: pkg.description, license: pkg.license, private: true, type: "module",
    engines: pkg.engines, bin: pkg.bin, dependencies,
  };
  writeFileSync(path.join(stage, "package.json"), `${JSON.stringify(releasePkg, null, 2)}\n`);
  cpSync(path.join(root, "package-lock.json"), path.join(stage, "package-lock.json"));
  run("npm", ["install", "--omit=dev", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], stage);

  mkdirSync(outDir, { recursive: true });
  const tarball = path.join(outDir, `${name}.tar.gz`);
  log(`packing ${path.relative(root, tarball)}`);
  run("tar", ["-czf", tarball, "-C", work, name]);
  const sha = createHash("sha256").update(readFileSync(tarball)).digest("hex");
  writeFileSync(`${tarball}.sha256`, `${sha}  ${path.basename(tarball)}\n`);
  rmSync(work, { recursive: true, force: true });
  log(`done: ${path.relative(root, tarball)} (${(statSync(tarball).size / 1024 / 1024).toFixed(1)} MiB), sha256 ${sha}`);
  return { tarball, sha256: sha, name, version: pkg.version };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values } = parseArgs({ options: { "out-dir": { type: "string" } } });
  await release({ outDir: values["out-dir"] ? path.resolve(values["out-dir"]) : undefined });
}
