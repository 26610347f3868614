import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";

/*
 * Unpacks a bundle (.tar.gz) with Node alone: the agent adds no tar library and needs no
 * `tar` binary. Regular files and directories only (ustar and GNU tar, with GNU long names
 * and pax headers skipped); anything else, or a path leaving the target, is refused.
 */

/** Every file of the gzip'ed tar `archive` as a relative path and its bytes; throws on what is not a plain bundle. */
export function readTarGz(archive: Buffer): { name: string; data: Buffer }[] {
  const tar = gunzipSync(archive);
  const files: { name: string; data: Buffer }[] = [];
  let longName: string | undefined;
  for (let at = 0; at + 512 <= tar.length;) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break; // the end: two zero blocks
    const size = parseInt(text(header, 124, 12).trim() || "0", 8);
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`tar entry at byte ${at}: bad size field`);
    const type = String.fromCharCode(header[156]!);
    const body = tar.subarray(at + 512, at + 512 + size);
    if (body.length !== size) throw new Error("tar archive cut short");
    at += 512 + Math.ceil(size / 512) * 512;
    if (type === "L") {
      longName = body.toString("utf8").replace(/\0+$/, "");
      continue;
    }
    if (type === "x" || type === "g") continue; // pax attributes: mtime, uid, …, nothing a bundle needs
    const prefix = text(header, 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
    longName = undefined;
    const rel = safeRelative(name);
    if (type === "5") continue; // directories are made for the files in them
    if (type !== "0" && type !== "\0") throw new Error(`tar entry '${name}': type '${type}' (links and devices are not part of a bundle)`);
    if (rel) files.push({ name: rel, data: Buffer.from(body) });
  }
  return files;
}

/** Writes `files` under `dir` (which must not exist yet). */
export function writeFiles(dir: string, files: readonly { name: string; data: Buffer }[]): void {
  mkdirSync(dir, { recursive: true });
  for (const f of files) {
    const target = path.join(dir, f.name);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, f.data, { mode: 0o644 });
  }
}

function text(header: Buffer, offset: number, length: number): string {
  const raw = header.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? length : end).toString("utf8");
}

/** `./chunks/a.mjs` → `chunks/a.mjs`; `.` → ""; absolute paths and `..` are refused. */
function safeRelative(name: string): string {
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (name.startsWith("/") || parts.includes("..")) throw new Error(`tar entry '${name}' points outside the bundle`);
  return parts.join("/");
}
