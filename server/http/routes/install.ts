import { createReadStream, existsSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Router } from "@koa/router";
import { TsmonError } from "../../../common/errors.ts";

/*
 * An agent installs from the server it reports to:
 *   curl -fsSL http://SERVER:8080/install.sh | bash -s -- agent --server-endpoint http://SERVER:9090
 * The script, and the release tarball it fetches by default, are served here, open like
 * /docs: both are public code. The tarball is the one install.sh kept beside the releases
 * (INSTALL_DIR/downloads) or, in a checkout, the one `npm run release` left in dist/.
 */

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** Where a server looks for its own release tarball, first match wins. */
export function downloadDirs(root = ROOT): string[] {
  return [path.join(root, "..", "..", "downloads"), path.join(root, "dist")];
}

/** `tsmon-linux-x64.tar.gz` (this server's version) or the versioned name, and their `.sha256`. */
export function downloadFile(name: string, version: string, dirs: readonly string[]): string | undefined {
  const m = /^tsmon-(?:(\d+\.\d+\.\d+[\w.-]*?)-)?(linux-(?:x64|arm64))\.tar\.gz(\.sha256)?$/.exec(name);
  if (!m || (m[1] !== undefined && m[1] !== version)) return undefined;
  const file = `tsmon-${version}-${m[2]}.tar.gz${m[3] ?? ""}`;
  return dirs.map((d) => path.join(d, file)).find((f) => existsSync(f) && statSync(f).isFile());
}

export function installRouter(version: string, root = ROOT): Router {
  const router = new Router();
  const script = path.join(root, "scripts", "install.sh");

  /**
   * @openapi
   * /install.sh:
   *   get:
   *     summary: The install script (scripts/install.sh), for `curl -fsSL …/install.sh | bash -s -- agent …`.
   *     tags: [system]
   *     security: []
   *     responses:
   *       200: { description: The script., content: { text/x-shellscript: { schema: { type: string } } } }
   */
  router.get("/install.sh", (ctx) => {
    ctx.type = "text/x-shellscript";
    ctx.body = createReadStream(script);
  });

  /**
   * @openapi
   * /download/{file}:
   *   get:
   *     summary: This server's release tarball, for install.sh on agents (`tsmon-linux-x64.tar.gz`, or with the version in the name; `.sha256` beside it).
   *     tags: [system]
   *     security: []
   *     parameters:
   *       - { name: file, in: path, required: true, schema: { type: string } }
   *     responses:
   *       200: { description: The tarball or its checksum., content: { application/gzip: { schema: { type: string, format: binary } } } }
   *       404: { description: No such file here (the server was not installed from a release)., content: { application/json: { schema: { $ref: '#/components/schemas/Error' } } } }
   */
  router.get("/download/:file", (ctx) => {
    const file = downloadFile(ctx.params.file!, version, downloadDirs(root));
    if (!file) throw new TsmonError("NOT_FOUND", `no release file '${ctx.params.file}' on this server: install it with scripts/install.sh, or build one with npm run release; agents can also install with --from FILE`);
    ctx.type = file.endsWith(".sha256") ? "text/plain" : "application/gzip";
    ctx.set("Content-Disposition", `attachment; filename="${path.basename(file)}"`);
    ctx.body = createReadStream(file);
  });

  return router;
}
