import { createHash } from "node:crypto";
import { readdirSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { Database } from "lmdb";
import type { SampleBlock } from "../actors/protocol/messages.ts";
import type { AlertEvent } from "../alerts/types.ts";
import type { Logger } from "../log.ts";
import type { LivePeer } from "../storage/control-store.ts";
import { processExists } from "../process-exists.ts";

type WireMessage =
  | { kind: "report"; agentId: string; series: string; timestamps: number[]; values: number[] }
  | { kind: "alert"; event: AlertEvent };

/** Where relayed messages are delivered in the receiving process. */
export interface RelayTarget {
  publish(agentId: string, samples: SampleBlock): void;
  publishAlert(event: AlertEvent): void;
}

const HEARTBEAT_MS = 5_000;
const STALE_MS = 15_000;
const REFRESH_MS = 1_000;
const MAX_LINK_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Carries live reports between the server processes sharing a data dir (PM2 cluster), so a
 * WebSocket client on one instance sees reports ingested by another. Each process listens
 * on a Unix socket and registers it in the control store; a report is forwarded only to
 * peers that currently have live clients, and relayed reports are never forwarded again.
 */
export class LiveRelay {
  private readonly socketPath: string;
  private readonly socketPrefix: string;
  private readonly server: net.Server;
  private readonly links = new Map<number, net.Socket>();
  private peers: LivePeer[] = [];
  private hasClients = false;
  /** Called when whether any peer wants this process's reports changes. */
  onForwarding?: (forwarding: boolean) => void;
  private dropped = 0;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly registry: Database<LivePeer, number>,
    dataDir: string,
    private readonly target: RelayTarget,
    private readonly log: Logger,
  ) {
    this.socketPrefix = liveSocketPrefix(dataDir);
    this.socketPath = path.join(os.tmpdir(), `${this.socketPrefix}${process.pid}.sock`);
    this.server = net.createServer((conn) => this.receive(conn));
  }

  async start(): Promise<void> {
    rmSync(this.socketPath, { force: true });
    await this.removeDeadPeers();
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.socketPath, () => resolve());
    });
    await this.register();
    this.timers.push(setInterval(() => void this.register(), HEARTBEAT_MS).unref());
    this.timers.push(setInterval(() => this.refreshPeers(), REFRESH_MS).unref());
    this.refreshPeers();
  }

  setHasClients(hasClients: boolean): void {
    this.hasClients = hasClients;
    void this.register();
  }

  /** Sends a locally ingested report to every peer with live clients. */
  forward(agentId: string, samples: SampleBlock): void {
    if (this.peers.length === 0) return;
    this.send({
      kind: "report", agentId, series: samples.series, timestamps: Array.from(samples.timestamps), values: Array.from(samples.values),
    });
  }

  /** Sends a locally emitted alert event to every peer with live clients. */
  forwardAlert(event: AlertEvent): void {
    if (this.peers.length) this.send({ kind: "alert", event });
  }

  private send(message: WireMessage): void {
    const line = JSON.stringify(message) + "\n";
    for (const peer of this.peers) {
      const link = this.link(peer);
      // A peer that stopped reading must not make this process buffer without bound.
      if (link.writableLength > MAX_LINK_BUFFER_BYTES) this.dropped++;
      else link.write(line);
    }
  }

  /** Messages not relayed because a peer was not reading (its clients miss them). */
  get droppedCount(): number {
    return this.dropped;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    for (const link of this.links.values()) link.destroy();
    await this.registry.remove(process.pid);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.socketPath, { force: true });
  }

  /** A process killed outright (SIGKILL, OOM) leaves its socket file and registry entry behind. */
  private async removeDeadPeers(): Promise<void> {
    const dead: number[] = [];
    for (const { value } of this.registry.getRange({})) {
      if (value.pid !== process.pid && Date.now() - value.heartbeat > STALE_MS && !processExists(value.pid)) dead.push(value.pid);
    }
    for (const pid of dead) await this.registry.remove(pid);
    for (const name of readdirSync(os.tmpdir())) {
      if (!name.startsWith(this.socketPrefix) || !name.endsWith(".sock")) continue;
      const pid = Number(name.slice(this.socketPrefix.length, -".sock".length));
      if (Number.isInteger(pid) && pid !== process.pid && !processExists(pid)) rmSync(path.join(os.tmpdir(), name), { force: true });
    }
  }

  private async register(): Promise<void> {
    await this.registry.put(process.pid, { pid: process.pid, socket: this.socketPath, hasClients: this.hasClients, heartbeat: Date.now() });
  }

  private refreshPeers(): void {
    const now = Date.now();
    const before = this.forwarding;
    this.peers = [];
    for (const { value } of this.registry.getRange({})) {
      if (value.pid !== process.pid && value.hasClients && now - value.heartbeat < STALE_MS) this.peers.push(value);
    }
    if (this.forwarding !== before) this.onForwarding?.(this.forwarding);
  }

  /** Whether some peer has live clients, so reports ingested here go to it. */
  get forwarding(): boolean {
    return this.peers.length > 0;
  }

  private link(peer: LivePeer): net.Socket {
    let link = this.links.get(peer.pid);
    if (!link || link.destroyed) {
      link = net.createConnection(peer.socket);
      link.on("error", (err) => this.log.debug({ err, peer: peer.pid }, "live relay link failed"));
      link.on("close", () => this.links.delete(peer.pid));
      this.links.set(peer.pid, link);
    }
    return link;
  }

  private receive(conn: net.Socket): void {
    let buffered = "";
    conn.setEncoding("utf8");
    conn.on("error", () => conn.destroy());
    conn.on("data", (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          const w = JSON.parse(line) as WireMessage;
          if (w.kind === "alert") this.target.publishAlert(w.event);
          else this.target.publish(w.agentId, {
            series: w.series, timestamps: Float64Array.from(w.timestamps), values: Float64Array.from(w.values),
          });
        } catch (err) {
          this.log.warn({ err }, "dropped a malformed relayed live message");
        }
      }
    });
  }
}

/** File-name prefix of the relay sockets of one data dir; the pid and `.sock` follow. Unix socket
 *  paths are short (~107 bytes), so they live in tmpdir, keyed by a hash of the data dir. */
export function liveSocketPrefix(dataDir: string): string {
  return `tsmon-live-${createHash("sha1").update(dataDir).digest("hex").slice(0, 12)}-`;
}
