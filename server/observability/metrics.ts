import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { ReportTimes } from "../actors/protocol/messages.ts";
import { counterDelta } from "../actors/window/window-feed.ts";

/** Live figures the registry reads at scrape time. */
export interface MetricSources {
  actors(): { actor: string; depth: number; restarts: number }[];
  partitions(): { partition: string; bytes: number }[];
  live(): { clients: number; dropped: number };
  /** ReportStream calls open. */
  reportStreams(): number;
  /** Bytes of reports and request bodies held now, and the bound ([actors] ingest_queue_bytes). */
  requestBytes(): { inUse: number; limit: number };
  window(): Promise<{ agents: number; series: number; samplesHeld: number; bytesPerAgent: number }>;
  /** Reports the agent-window shards took and dropped (32-bit totals that wrap). */
  windowFeed(): { handled: number; dropped: number };
  /** Delivery outcomes since the last call. */
  notifications(): Promise<{ channel: string; result: string; reason: string; count: number }[]>;
}

/**
 * This process's Prometheus metrics (`/metrics`). Counters are incremented where things
 * happen; gauges of actors and storage are read from `sources` at scrape time.
 */
export function createServerMetrics(sources: MetricSources) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "tsmon_" });
  const registers = [registry];
  const windowHandledSince = sinceLastScrape(() => sources.windowFeed().handled);
  const windowDroppedSince = sinceLastScrape(() => sources.windowFeed().dropped);
  const metrics = {
    registry,
    reportsIngested: new Counter({ name: "tsmon_reports_ingested_total", help: "Reports stored durably", registers }),
    reportsDuplicate: new Counter({ name: "tsmon_reports_duplicate_total", help: "Resent reports (same agent, stream_id, sequence) acknowledged without storing again", registers }),
    pointsIngested: new Counter({ name: "tsmon_points_ingested_total", help: "Points stored durably", registers }),
    reportsRefused: new Counter({ name: "tsmon_reports_refused_total", help: "Reports refused, by error code", labelNames: ["reason"] as const, registers }),
    memoryReleases: new Counter({ name: "tsmon_memory_releases_total", help: "Memory given back once requests went quiet, by step: collect (a full collection in every thread), trim (malloc's free pages returned)", labelNames: ["step"] as const, registers }),
    ackLatency: new Histogram({
      name: "tsmon_ack_latency_seconds", help: "From a report's arrival to its acknowledgement (durable write)",
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers,
    }),
    actorMessages: new Counter({
      name: "tsmon_actor_messages_total", help: "Messages handled, by actor", labelNames: ["actor"] as const, registers,
      collect() { this.inc({ actor: "agent-window" }, windowHandledSince()); },
    }),
    alertLatency: new Histogram({
      name: "tsmon_alert_latency_seconds", help: "From the arrival of the report that caused an alert event to the event's emission",
      buckets: [0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 1], registers,
    }),
    alertStage: new Histogram({
      name: "tsmon_alert_stage_seconds",
      help: "Where an alert's latency goes, for reports that caused events: ingest (arrival to accepted: decoded and validated, write queued), window (rules applied), evaluate (lifecycle written durably, events back on the main thread)",
      labelNames: ["stage"] as const, buckets: [0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 1], registers,
    }),
    alertEvents: new Counter({ name: "tsmon_alert_events_total", help: "Alert events, by rule and state", labelNames: ["rule", "state"] as const, registers }),
    certChecks: new Counter({ name: "tsmon_cert_checks_total", help: "Certificate checks stored, by result (ok or the error class)", labelNames: ["result"] as const, registers }),
    notifications: new Counter({
      name: "tsmon_notifications_total",
      help: "Notification outcomes, by channel, result (sent, retry, failed, expired, held, suppressed) and, for failed attempts, reason (network, rate_limited, server_error, rejected, config, internal)",
      labelNames: ["channel", "result", "reason"] as const, registers,
      // The notifier thread counts; each scrape adds what happened since the last one.
      async collect() { for (const o of await sources.notifications().catch(() => [])) this.inc({ channel: o.channel, result: o.result, reason: o.reason }, o.count); },
    }),
    httpDuration: new Histogram({
      name: "tsmon_http_request_duration_seconds", help: "HTTP request duration, by route and status",
      labelNames: ["method", "route", "status"] as const, buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1], registers,
    }),
  };
  new Gauge({
    name: "tsmon_actor_mailbox_depth", help: "Messages waiting or in flight, by actor", labelNames: ["actor"] as const, registers,
    collect() { for (const a of sources.actors()) this.set({ actor: a.actor }, a.depth); },
  });
  new Gauge({
    name: "tsmon_actor_restarts", help: "Worker restarts since start, by actor", labelNames: ["actor"] as const, registers,
    collect() { for (const a of sources.actors()) this.set({ actor: a.actor }, a.restarts); },
  });
  new Gauge({
    name: "tsmon_lmdb_partition_bytes", help: "Size on disk of each LMDB environment", labelNames: ["partition"] as const, registers,
    collect() { this.reset(); for (const p of sources.partitions()) this.set({ partition: p.partition }, p.bytes); },
  });
  const windowGauge = (name: string, help: string, pick: (w: Awaited<ReturnType<MetricSources["window"]>>) => number) => new Gauge({
    name, help, registers,
    async collect() { this.set(pick(await sources.window())); },
  });
  windowGauge("tsmon_window_agents", "Agents held by this process's agent-window shards", (w) => w.agents);
  windowGauge("tsmon_window_series", "Series whose latest value the agent window holds", (w) => w.series);
  windowGauge("tsmon_window_samples_held", "Samples held in alert-rule windows", (w) => w.samplesHeld);
  windowGauge("tsmon_window_bytes_per_agent", "Estimated agent-window memory per agent (latest values and rule state)", (w) => w.bytesPerAgent);
  new Counter({
    name: "tsmon_window_reports_dropped_total", registers,
    help: "Accepted reports an agent-window shard did not take, its mailbox full (the shard re-reads storage when it next meets the agent)",
    collect() { this.inc(windowDroppedSince()); },
  });
  new Gauge({
    name: "tsmon_live_clients", help: "WebSocket live-feed clients connected to this process", registers,
    collect() { this.set(sources.live().clients); },
  });
  new Gauge({
    name: "tsmon_request_bytes", help: "Bytes of reports and request bodies held by this process now (admission counts them against the limit)", registers,
    collect() { this.set(sources.requestBytes().inUse); },
  });
  new Gauge({
    name: "tsmon_request_bytes_limit", help: "The bound on tsmon_request_bytes ([actors] ingest_queue_bytes); past it requests are refused with RESOURCE_EXHAUSTED / 429", registers,
    collect() { this.set(sources.requestBytes().limit); },
  });
  new Gauge({
    name: "tsmon_report_streams", help: "ReportStream calls open on this process (agents reporting over the stream)", registers,
    collect() { this.set(sources.reportStreams()); },
  });
  new Counter({
    name: "tsmon_live_dropped_total", help: "Live messages skipped because a client read too slowly", registers,
    collect() { this.reset(); this.inc(sources.live().dropped); },
  });
  return metrics;
}

export type ServerMetrics = ReturnType<typeof createServerMetrics>;

/** For a total another thread keeps (32 bits, wrapping): what it grew by since the last call. */
function sinceLastScrape(read: () => number): () => number {
  let seen = 0;
  return () => {
    const now = read();
    const grown = counterDelta(now, seen);
    seen = now;
    return grown;
  };
}

/** The latency of the events one report caused, from its arrival, and the stages it went through. */
export function observeAlertTimes(metrics: ServerMetrics, events: number, times: ReportTimes, nowMs: number): void {
  for (let i = 0; i < events; i++) metrics.alertLatency.observe((nowMs - times.arrivedAt) / 1000);
  if (times.appliedAt === undefined) return;
  // Times from other threads: a wall-clock step between thread starts could make one negative.
  const seconds = (from: number, to: number) => Math.max(0, to - from) / 1000;
  metrics.alertStage.observe({ stage: "ingest" }, seconds(times.arrivedAt, times.acceptedAt));
  metrics.alertStage.observe({ stage: "window" }, seconds(times.acceptedAt, times.appliedAt));
  metrics.alertStage.observe({ stage: "evaluate" }, seconds(times.appliedAt, nowMs));
}
