import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

/**
 * Directory listings of the partition files, read each time — or, inside `consistentRead`,
 * once per directory for the whole read: a fleet query of a thousand agents lists the files
 * once instead of once per agent and day, then checks that the listing still holds.
 */
export class DirListing {
  private held: Map<string, string[]> | undefined;

  /**
   * Runs `read` on one listing of every directory it looks at; when a compaction or a seal
   * changed one meanwhile, runs it again (at most twice more).
   */
  consistentRead<T>(read: () => T): T {
    if (this.held) return read();
    for (let attempt = 0; ; attempt++) {
      const held = (this.held = new Map<string, string[]>());
      let result: T;
      try {
        result = read();
      } finally {
        this.held = undefined;
      }
      const unchanged = [...held].every(([dir, names]) => sameNames(readdirSync(dir), names));
      if (unchanged || attempt === 2) return result;
    }
  }

  /** A directory's entries: read now, or the listing held by consistentRead. */
  names(dir: string): string[] {
    if (!this.held) return readdirSync(dir);
    let names = this.held.get(dir);
    if (!names) this.held.set(dir, (names = readdirSync(dir)));
    return names;
  }

  exists(file: string): boolean {
    return this.held ? this.names(path.dirname(file)).includes(path.basename(file)) : existsSync(file);
  }

  /** The entries whose name matches `re` (group 1: the day, group 2: a number, 0 when absent). */
  files(dir: string, re: RegExp): { name: string; day: string; n: number }[] {
    return this.names(dir).flatMap((name) => {
      const m = re.exec(name);
      return m ? [{ name, day: m[1]!, n: Number(m[2] ?? 0) }] : [];
    });
  }
}

function sameNames(now: string[], then: string[]): boolean {
  if (now.length !== then.length) return false;
  const held = new Set(then);
  return now.every((name) => held.has(name));
}

export function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
