import type { WebSocket } from "ws";
import type { SampleBlock } from "../actors/protocol/messages.ts";
import { SeriesTextCache, type SeriesRef } from "../../common/series-text.ts";
import type { AlertEvent } from "../alerts/types.ts";
import type { ServerMessage } from "./protocol.ts";
import { Subscription } from "./subscription.ts";

interface Client {
  socket: WebSocket;
  subscription?: Subscription;
  /** Messages skipped since the client last kept up, and over its whole life. */
  pendingDrops: number;
  totalDrops: number;
}

export interface HubStats { clients: number; dropped: number }

/**
 * Fans each ingested report out to this process's live clients. A client whose socket
 * holds more than `maxBufferedBytes` unsent is skipped (and told how many it missed once
 * it catches up), so a slow reader costs a bounded amount of memory.
 */
export class LiveHub {
  private readonly clients = new Set<Client>();
  private dropped = 0;
  private readonly series = new SeriesTextCache();
  /** Called when the number of clients goes between zero and some (for the relay). */
  onOccupancy?: (hasClients: boolean) => void;

  constructor(private readonly maxBufferedBytes: number, private readonly version: string) {}

  add(socket: WebSocket): Client {
    const client: Client = { socket, pendingDrops: 0, totalDrops: 0 };
    this.clients.add(client);
    if (this.clients.size === 1) this.onOccupancy?.(true);
    socket.once("close", () => {
      this.clients.delete(client);
      if (this.clients.size === 0) this.onOccupancy?.(false);
    });
    this.send(client, { type: "hello", server: "tsmon", version: this.version });
    return client;
  }

  subscribe(client: Client, agents: string[], metrics: string[], alerts = true): void {
    client.subscription = new Subscription(agents, metrics, alerts);
    this.send(client, { type: "subscribed", agents, metrics, alerts });
  }

  get hasClients(): boolean {
    return this.clients.size > 0;
  }

  publish(agentId: string, samples: SampleBlock): void {
    let series: SeriesRef[] | undefined;
    for (const client of this.clients) {
      if (!client.subscription?.wantsAgent(agentId)) continue;
      series ??= this.series.refs(agentId, samples.series);
      const values = client.subscription.select(series, samples);
      if (values.length) this.send(client, { type: "report", agent_id: agentId, values });
    }
  }

  publishAlert(event: AlertEvent): void {
    for (const client of this.clients) {
      if (client.subscription?.wantsAlertsOf(event.agent_id)) this.send(client, { type: "alert", event });
    }
  }

  send(client: Client, message: ServerMessage): void {
    const socket = client.socket;
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > this.maxBufferedBytes) {
      client.pendingDrops++;
      client.totalDrops++;
      this.dropped++;
      return;
    }
    if (client.pendingDrops) {
      socket.send(JSON.stringify({ type: "dropped", count: client.pendingDrops, total: client.totalDrops } satisfies ServerMessage));
      client.pendingDrops = 0;
    }
    socket.send(JSON.stringify(message));
  }

  stats(): HubStats {
    return { clients: this.clients.size, dropped: this.dropped };
  }

  closeAll(): void {
    for (const c of this.clients) c.socket.close(1001, "server shutting down");
  }
}

export type LiveClient = Client;
