import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/*
 * Network namespaces for tests that need a real path: routers, a target behind them, and a
 * link with delay and loss. Names carry the test process's pid, so parallel runs never
 * meet, and every address lives inside the namespaces (10.91.x.x); the one exception is a
 * switch's port on the host (plugHost), a 10.92.x /24 found free there, gone with close().
 */

const run = promisify(execFile);
const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "../..");
const RELAY = path.join(ROOT, "test/fixtures/tun-relay.py");
/** The bridge of a switch namespace, and each member's device on it. */
const SWITCH = "br0";
const LAN = "lan";

/** Why namespaces cannot be used here, or undefined when they can (root, iproute2, and a kernel that allows them). */
export function netnsAvailable(): string | undefined {
  const probe = `tsmprobe${process.pid}`;
  try {
    execFileSync("ip", ["netns", "add", probe], { stdio: "pipe" });
    execFileSync("ip", ["netns", "del", probe], { stdio: "pipe" });
    return undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === "ENOENT") return "the `ip` command is missing: apt-get install iproute2";
    return `\`ip netns add\` is not permitted here (run the tests as root): ${e.stderr?.toString().trim() ?? e.message}`;
  }
}

/** Delay and loss on one link: netem where the kernel has it, else a TUN relay (test/fixtures/tun-relay.py). */
export interface LinkShape {
  /** Added in each direction, so a round trip gains twice this. */
  delayMs: number;
  /** Fraction (0–1) of the packets dropped, in the agent → target direction only. */
  loss: number;
}

/** Namespaces, links between them, and a close() that removes them all (and the relays). */
export class Netns {
  private readonly prefix = `tsm${process.pid % 100_000}${Math.random().toString(36).slice(2, 5)}`;
  private readonly names: string[] = [];
  private readonly hostDevices: string[] = [];
  private readonly relays: ChildProcess[] = [];

  /** Creates a namespace with loopback up; `role` is short (it ends the name). */
  async add(role: string): Promise<string> {
    const name = `${this.prefix}-${role}`;
    await run("ip", ["netns", "add", name]);
    this.names.push(name);
    await this.exec(name, "ip", "link", "set", "lo", "up");
    // Routers must forward, and nothing may rate-limit the time-exceeded answers traceroute counts on.
    await this.exec(name, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.icmp_ratelimit=0", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
    return name;
  }

  /** Runs a command in a namespace; rejects with its stderr when it fails. */
  async exec(ns: string, command: string, ...args: string[]): Promise<string> {
    try {
      return (await run("ip", ["netns", "exec", ns, command, ...args])).stdout;
    } catch (err) {
      const e = err as Error & { stderr?: string };
      throw new Error(`in ${ns}: ${command} ${args.join(" ")}: ${e.stderr?.trim() || e.message}`);
    }
  }

  /** Starts a long-running process in a namespace (the caller stops it; close() does not know it). */
  spawn(ns: string, command: string, args: string[], options: { cwd?: string } = {}): ChildProcess {
    return spawn("ip", ["netns", "exec", ns, command, ...args], { stdio: ["pipe", "pipe", "pipe"], ...options });
  }

  /**
   * Links two namespaces: `a` gets `addrA`, `b` gets `addrB` (a /24 between them). With a
   * shape, the link is two TUN devices and a relay holding the packets. Returns the two
   * device names, each in its namespace.
   */
  async link(a: string, addrA: string, b: string, addrB: string, shape?: LinkShape): Promise<{ devA: string; devB: string }> {
    const devA = `to-${b.split("-").pop()}`;
    const devB = `to-${a.split("-").pop()}`;
    if (!shape) {
      await run("ip", ["-n", a, "link", "add", devA, "type", "veth", "peer", "name", devB, "netns", b]);
      await this.exec(a, "ip", "addr", "add", `${addrA}/24`, "dev", devA);
      await this.exec(b, "ip", "addr", "add", `${addrB}/24`, "dev", devB);
    } else if (await this.hasNetem(a)) {
      await run("ip", ["-n", a, "link", "add", devA, "type", "veth", "peer", "name", devB, "netns", b]);
      await this.exec(a, "ip", "addr", "add", `${addrA}/24`, "dev", devA);
      await this.exec(b, "ip", "addr", "add", `${addrB}/24`, "dev", devB);
      await this.exec(a, "tc", "qdisc", "add", "dev", devA, "root", "netem", "delay", `${shape.delayMs}ms`, "loss", `${shape.loss * 100}%`);
      await this.exec(b, "tc", "qdisc", "add", "dev", devB, "root", "netem", "delay", `${shape.delayMs}ms`);
    } else {
      await this.relay(a, devA, devB, shape);
      await this.exec(a, "ip", "link", "set", devB, "netns", b);
      await this.exec(a, "ip", "addr", "add", addrA, "peer", `${addrB}/32`, "dev", devA);
      await this.exec(b, "ip", "addr", "add", addrB, "peer", `${addrA}/32`, "dev", devB);
    }
    await this.exec(a, "ip", "link", "set", devA, "up");
    await this.exec(b, "ip", "link", "set", devB, "up");
    return { devA, devB };
  }

  /** Makes `hub` a switch: a bridge that namespaces plugged into it (plug, plugHost) share as one /24. */
  async bridge(hub: string): Promise<void> {
    await this.exec(hub, "ip", "link", "add", SWITCH, "type", "bridge");
    await this.exec(hub, "ip", "link", "set", SWITCH, "up");
  }

  /** Plugs `ns` into the switch in `hub` with `address` (/24) on its device `lan`. */
  async plug(hub: string, ns: string, address: string): Promise<void> {
    const port = `p-${ns.split("-").pop()}`;
    await run("ip", ["-n", hub, "link", "add", port, "type", "veth", "peer", "name", LAN, "netns", ns]);
    await this.exec(ns, "ip", "addr", "add", `${address}/24`, "dev", LAN);
    await this.exec(ns, "ip", "link", "set", LAN, "up");
    await this.exec(hub, "ip", "link", "set", port, "master", SWITCH, "up");
  }

  /**
   * Plugs the host (the test's own namespace) into the switch in `hub`, so a server the test
   * runs in-process is reachable from every namespace on that switch. Takes the first
   * 10.92.N.0/24 the host has no address or route in; returns the host's address (.1) and
   * the subnet's prefix ("10.92.N.") for the other members' addresses.
   */
  async plugHost(hub: string): Promise<{ hostAddress: string; subnet: string }> {
    const inUse = (await run("ip", ["-o", "-4", "addr", "show"])).stdout + (await run("ip", ["-4", "route", "show", "table", "all"])).stdout;
    const n = [...Array(254).keys()].map((i) => i + 1).find((i) => !inUse.includes(`10.92.${i}.`));
    if (n === undefined) throw new Error("no free 10.92.N.0/24 on the host for the test's switch: remove the stale test devices (ip -o -4 addr show | grep 10.92.)");
    const subnet = `10.92.${n}.`;
    const device = `${this.prefix}h`;
    await run("ip", ["link", "add", device, "type", "veth", "peer", "name", "p-host", "netns", hub]);
    this.hostDevices.push(device);
    await run("ip", ["addr", "add", `${subnet}1/24`, "dev", device]);
    await run("ip", ["link", "set", device, "up"]);
    await this.exec(hub, "ip", "link", "set", "p-host", "master", SWITCH, "up");
    return { hostAddress: `${subnet}1`, subnet };
  }

  /** Routes `destination` (a CIDR or "default") from `ns` via `gateway`. */
  async route(ns: string, destination: string, gateway: string): Promise<void> {
    await this.exec(ns, "ip", "route", "add", destination, "via", gateway);
  }

  /** Removes the namespaces (their devices go with them) and stops the relays; never throws. */
  async close(): Promise<void> {
    for (const relay of this.relays) {
      relay.stdin?.end();
      if (relay.exitCode === null) await Promise.race([once(relay, "exit"), new Promise((r) => setTimeout(r, 2000))]);
      if (relay.exitCode === null && relay.pid) process.kill(relay.pid, "SIGKILL");
    }
    // A host device goes with its peer's namespace; deleting it first says so explicitly.
    for (const device of this.hostDevices) await run("ip", ["link", "del", device]).catch(() => undefined);
    this.hostDevices.length = 0;
    for (const name of this.names.reverse()) await run("ip", ["netns", "del", name]).catch(() => undefined);
    this.names.length = 0;
  }

  private async relay(ns: string, devA: string, devB: string, shape: LinkShape): Promise<void> {
    const relay = this.spawn(ns, "chrt", ["-f", "50", "python3", RELAY, devA, devB, String(shape.delayMs), String(shape.loss)]);
    this.relays.push(relay);
    let err = "";
    relay.stderr!.on("data", (c) => (err += c));
    const ready = await Promise.race([
      once(relay.stdout!, "data").then(() => true),
      once(relay, "exit").then(() => false),
    ]);
    if (!ready) throw new Error(`the TUN relay in ${ns} did not start (python3 and /dev/net/tun needed): ${err.trim()}`);
  }

  private async hasNetem(ns: string): Promise<boolean> {
    try {
      await this.exec(ns, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "0ms");
      await this.exec(ns, "tc", "qdisc", "del", "dev", "lo", "root");
      return true;
    } catch {
      return false;
    }
  }
}

/** The topology: agent — router1 — router2 — target, each link a /24 of 10.91.x. */
export interface Chain {
  netns: Netns;
  ns: { agent: string; router1: string; router2: string; target: string };
  /** router1 and router2 as the agent's traceroute sees them (the address facing the agent), and the target. */
  hops: [string, string, string];
  target: string;
  /** The router2 ↔ target device in router2: set it down to cut the target off. */
  router2ToTarget: string;
}

/** Builds the chain; `shape` puts delay and loss on the router1 — router2 link. close() the netns in a finally. */
export async function buildChain(shape?: LinkShape): Promise<Chain> {
  const netns = new Netns();
  try {
    const agent = await netns.add("ag");
    const router1 = await netns.add("r1");
    const router2 = await netns.add("r2");
    const target = await netns.add("tg");
    await netns.link(agent, "10.91.1.2", router1, "10.91.1.1");
    await netns.link(router1, "10.91.2.1", router2, "10.91.2.2", shape);
    const { devA: router2ToTarget } = await netns.link(router2, "10.91.3.1", target, "10.91.3.2");
    await netns.route(agent, "default", "10.91.1.1");
    await netns.route(router1, "10.91.3.0/24", "10.91.2.2");
    await netns.route(router2, "10.91.1.0/24", "10.91.2.1");
    await netns.route(target, "default", "10.91.3.1");
    return { netns, ns: { agent, router1, router2, target }, hops: ["10.91.1.1", "10.91.2.2", "10.91.3.2"], target: "10.91.3.2", router2ToTarget };
  } catch (err) {
    await netns.close();
    throw err;
  }
}

/**
 * Agents that each reach one target over a path of their own and the host over a shared
 * switch: cutting an agent's path to the target leaves its path to the server whole.
 */
export interface Fleet {
  netns: Netns;
  /** The host's address on the switch: bind the test's server there. */
  serverAddress: string;
  /** The target, an address on the target namespace's loopback, routed from each agent over its own link. */
  target: string;
  agents: FleetAgent[];
}

export interface FleetAgent {
  ns: string;
  /** Sets the agent's device toward the target down: the target is unreachable from it, the server still is. */
  cut(): Promise<void>;
  /** Sets it up again, with its route to the target (the kernel dropped that with the device). */
  heal(): Promise<void>;
}

/** Builds `count` agent namespaces, the target's and the switch's; close() the netns in a finally. */
export async function buildFleet(count: number): Promise<Fleet> {
  const netns = new Netns();
  try {
    const target = await netns.add("tg");
    const hub = await netns.add("sw");
    await netns.bridge(hub);
    const { hostAddress, subnet } = await netns.plugHost(hub);
    const targetAddress = "10.91.9.9";
    await netns.exec(target, "ip", "addr", "add", `${targetAddress}/32`, "dev", "lo");
    const agents: Fleet["agents"] = [];
    for (let i = 1; i <= count; i++) {
      const ns = await netns.add(`a${i}`);
      await netns.plug(hub, ns, `${subnet}${10 + i}`);
      const gateway = `10.91.${10 + i}.1`;
      const { devA: toTarget } = await netns.link(ns, `10.91.${10 + i}.2`, target, gateway);
      await netns.route(ns, `${targetAddress}/32`, gateway);
      agents.push({
        ns,
        cut: async () => { await netns.exec(ns, "ip", "link", "set", toTarget, "down"); },
        heal: async () => {
          await netns.exec(ns, "ip", "link", "set", toTarget, "up");
          await netns.exec(ns, "ip", "route", "replace", `${targetAddress}/32`, "via", gateway);
        },
      });
    }
    return { netns, serverAddress: hostAddress, target: targetAddress, agents };
  } catch (err) {
    await netns.close();
    throw err;
  }
}

/**
 * Runs test/helpers/run-check.ts in `ns` with `request` and returns what it printed, parsed;
 * `realtime` runs it at real-time priority (chrt), so a loaded host does not delay it.
 */
export async function runInNetns<T>(netns: Netns, ns: string, request: object, options: { realtime?: boolean } = {}): Promise<T> {
  const command = [process.execPath, "--import", "tsx", path.join(ROOT, "test/helpers/run-check.ts"), JSON.stringify(request)];
  const [program, ...args] = options.realtime ? ["chrt", "-f", "40", ...command] : command;
  const out = await netns.exec(ns, program!, ...args);
  return JSON.parse(out) as T;
}
