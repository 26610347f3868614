import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { writeFileDurably } from "../../common/durable-write.ts";
import { compareVersions, RELEASE_VERSION } from "../../common/agent-release.ts";

/** One stored release: what `<version>.json` holds beside `<version>.tar.gz`. */
export interface StoredRelease {
  version: string;
  sha256: string;
  size: number;
  signature: string;
  /** Who signed it: the server's key on upload, or the uploader (verified or not). */
  signed_by: "server" | "uploader-verified" | "uploader-unverified";
  uploaded_at: string;
}

/**
 * Agent releases on disk under `<data_dir>/agent-releases`: each version is its bundle
 * (`<version>.tar.gz`) and its metadata (`<version>.json`), each written to a temporary
 * name, fsynced and renamed, metadata last. There is no shared index to rewrite: the
 * listing is the index, so two server processes (PM2 cluster) uploading at once cannot
 * lose each other's release, and a crash mid-upload leaves no half release visible.
 */
export class ReleaseStore {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, "agent-releases");
  }

  /** Every release, newest version first. */
  list(): StoredRelease[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    return names
      .filter((n) => n.endsWith(".json") && RELEASE_VERSION.test(n.slice(0, -5)))
      .map((n) => JSON.parse(readFileSync(path.join(this.dir, n), "utf8")) as StoredRelease)
      .sort((a, b) => compareVersions(b.version, a.version));
  }

  latest(): StoredRelease | undefined {
    return this.list()[0];
  }

  get(version: string): StoredRelease | undefined {
    if (!RELEASE_VERSION.test(version)) return undefined;
    try {
      return JSON.parse(readFileSync(this.metaFile(version), "utf8")) as StoredRelease;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  bundleFile(version: string): string {
    return path.join(this.dir, `${version}.tar.gz`);
  }

  /** Stores a release; false when that version is already stored (releases are immutable). */
  add(release: StoredRelease, bundle: Buffer): boolean {
    if (this.get(release.version)) return false;
    mkdirSync(this.dir, { recursive: true });
    writeFileDurably(this.bundleFile(release.version), bundle);
    writeFileDurably(this.metaFile(release.version), Buffer.from(`${JSON.stringify(release, null, 2)}\n`));
    return true;
  }

  private metaFile(version: string): string {
    return path.join(this.dir, `${version}.json`);
  }
}

