import type { ByteBudget } from "../actors/ingest/byte-budget.ts";
import type { Auth } from "../auth/auth.ts";
import type { ServerConfig } from "../config/load.ts";
import type { Intake } from "../actors/ingest/intake.ts";
import type { Logger } from "../log.ts";
import type { ServerMetrics } from "../observability/metrics.ts";
import type { WindowShards } from "../actors/window/window-shards.ts";
import type { AlertEngine } from "../alerts/engine.ts";
import type { NotifierActor } from "../actors/notifier/notifier-actor.ts";
import type { ChannelBook } from "../notify/channel-book.ts";
import type { CertChecker } from "../certs/checker.ts";
import type { ControlStore } from "../storage/control-store.ts";
import type { AgentConfigStore } from "../agent-config/store.ts";
import type { WatchHub } from "../agent-config/watch-hub.ts";
import type { AgentCommandStore } from "../agent-config/commands.ts";
import type { MetricStore } from "../storage/metric-store.ts";
import type { PartitionSet } from "../storage/partitions.ts";

/** What route handlers may ask: storage, actors and the config, handed down explicitly. */
export interface HttpDeps {
  config: ServerConfig;
  log: Logger;
  /** Bytes of requests held at once, bodies being read included ([actors] ingest_queue_bytes). */
  requestBytes: ByteBudget;
  control: ControlStore;
  auth: Auth;
  store: MetricStore;
  partitions: PartitionSet;
  intake: Intake;
  metrics: ServerMetrics;
  lifecycle: Lifecycle;
  window: WindowShards;
  alerts: AlertEngine;
  channels: ChannelBook;
  notifier: NotifierActor;
  certs: CertChecker;
  /** Server-managed checks and agent settings, and the agents watching them (server/agent-config). */
  agentConfig: { store: AgentConfigStore; hub: WatchHub; commands?: AgentCommandStore };
  version: string;
  startedAt: number;
  now: () => number;
  /** The built dashboard to serve at / (default web/dist). */
  webRoot?: string;
}

/** Where the process is in its life; readiness turns false as soon as shutdown begins. */
export interface Lifecycle {
  shuttingDown: boolean;
  /** Storage opens and every actor has a live thread. */
  ready(): { storage: boolean; actors: boolean };
}
