import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { lookup } from "node:dns/promises";
import path from "node:path";
import { loadReleaseKeys } from "../updates/release-keys.ts";
import { ConfigError, type ServerConfig } from "./load.ts";

/**
 * What the schema cannot see: whether the data dir can be made and written, the TLS files
 * read, the bind address resolved. Every problem is reported at once, in the config error
 * shape (field, what is wrong, what to do), before anything starts.
 */
export async function preflight(config: ServerConfig, source = "config"): Promise<void> {
  const problems = [
    ...dataDirProblems(config.data_dir),
    ...(config.tls.enabled ? [fileProblem("tls.cert_file", config.tls.cert_file!), fileProblem("tls.key_file", config.tls.key_file!)] : []),
    ...config.remote_write.flatMap((rw, i) => (["ca_file", "cert_file", "key_file"] as const)
      .flatMap((field) => rw.tls[field] ? [fileProblem(`remote_write.${i}.tls.${field}`, rw.tls[field])] : [])),
    await bindAddressProblem(config.bind_address),
    releaseKeyProblem(config.updates),
  ].filter((p): p is string => p !== null);
  if (problems.length) throw new ConfigError(source, problems);
}

/**
 * Makes the data dir (mode 0700: control.mdb holds password and token hashes) one level at
 * a time from its nearest existing ancestor. Node's recursive mkdir loops forever where a
 * parent exists but refuses children (`/proc/tsmon`); one level at a time fails at once.
 */
export function dataDirProblems(dir: string): string[] {
  const missing: string[] = [];
  let at = dir;
  for (;;) {
    const stat = statIfThere(at);
    if (stat) {
      if (!stat.isDirectory()) return [`data_dir: ${dir} cannot be a directory: ${at} is a file; choose another data_dir`];
      break;
    }
    missing.unshift(at);
    const parent = path.dirname(at);
    if (parent === at) break;
    at = parent;
  }
  try {
    for (const level of missing) mkdirSync(level, { mode: 0o700 });
    // access() says yes to root anywhere: only a real write proves the directory takes files.
    const probe = path.join(dir, `.tsmon-write-probe-${process.pid}`);
    writeFileSync(probe, "");
    rmSync(probe);
  } catch (err) {
    return [`data_dir: cannot create or write ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); choose a writable directory or fix its permissions`];
  }
  return [];
}

/** A path's stat, or undefined where nothing is (ENOENT, or ENOTDIR: a file stands higher up). */
function statIfThere(at: string) {
  try {
    return statSync(at);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw err;
  }
}

function fileProblem(field: string, file: string): string | null {
  try {
    readFileSync(file);
    return null;
  } catch (err) {
    return `${field}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give the path of a readable PEM file`;
  }
}

async function bindAddressProblem(address: string): Promise<string | null> {
  try {
    await lookup(address);
    return null;
  } catch (err) {
    return `bind_address: '${address}' does not resolve (${(err as NodeJS.ErrnoException).code}); use an address of this host such as 127.0.0.1, or 0.0.0.0 for all`;
  }
}

/** `[updates]` key files that cannot be read as ed25519 keys (the message names the field and the fix). */
function releaseKeyProblem(settings: ServerConfig["updates"]): string | null {
  try {
    loadReleaseKeys(settings);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
