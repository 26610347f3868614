import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { TracerouteHop } from "../../agent/checks/traceroute.ts";
import type { Netns } from "./netns.ts";

/* The real agent (agent/main.ts) in a network namespace, with its log kept for waits and for failure messages. */

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** One JSON log line of the agent (the fields the tests read). */
export interface LogLine { msg: string; hops?: TracerouteHop[] }

export interface NetnsAgent {
  child: ChildProcess;
  /** The JSON log lines so far, in order. */
  lines(): LogLine[];
  /** Everything it printed, JSON or not (a crash's stack trace is not). */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited within 10 s; never throws. */
  stop(): Promise<void>;
}

/**
 * Starts agent/main.ts with `configFile` in `ns`, logging JSON. `realtime` runs it at
 * real-time priority (chrt): on a loaded host a stalled event loop would run a probe's
 * timeout before reading the answer that came in time. Tests that need no figure from a
 * probe leave it off: real-time processes starve a small machine.
 */
export function spawnAgent(netns: Netns, ns: string, configFile: string, options: { realtime?: boolean } = {}): NetnsAgent {
  const command = [process.execPath, "--import", "tsx", path.join(ROOT, "agent/main.ts"), configFile, "--log-format", "json"];
  const [program, ...args] = options.realtime ? ["chrt", "-f", "40", ...command] : command;
  const child = netns.spawn(ns, program!, args, { cwd: ROOT });
  child.stdin!.end();
  let out = "";
  child.stdout!.on("data", (c) => (out += c));
  child.stderr!.on("data", (c) => (out += c));
  const exited = once(child, "exit");
  return {
    child,
    lines: () => out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as LogLine),
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits until `count` log lines match `pattern`; throws with the agent's whole output after 60 s or when it exits. */
export async function waitForLog(agent: NetnsAgent, pattern: RegExp, count: number, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (agent.lines().filter((l) => pattern.test(l.msg)).length < count) {
    if (Date.now() > deadline || agent.child.exitCode !== null) throw new Error(`waited for ${what}; the agent's output:\n${agent.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
