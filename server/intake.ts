import type { IngestPool, StoredReport } from "./actors/ingest-pool.ts";
import type { IngestTask, SampleBlock } from "./actors/messages.ts";
import type { WindowShards } from "./actors/window-shards.ts";
import type { AlertEngine } from "./alerts/engine.ts";
import type { Logger } from "./log.ts";
import type { ServerMetrics } from "./observability/metrics.ts";

/**
 * Where reports enter the actor system, whatever their transport (gRPC or HTTP):
 * ingest stores the report durably, then its samples go on to the agent window.
 */
export class Intake {
  private readonly listeners: ((agentId: string, samples: SampleBlock) => void)[] = [];

  constructor(
    private readonly ingest: IngestPool,
    private readonly window: WindowShards,
    private readonly alerts: AlertEngine,
    private readonly metrics: ServerMetrics,
    private readonly log: Logger,
  ) {}

  async submit(task: IngestTask): Promise<StoredReport> {
    const started = performance.now();
    let stored: StoredReport;
    try {
      stored = await this.ingest.submit(task);
    } catch (err) {
      this.metrics.reportsRefused.inc({ reason: (err as { code?: string }).code ?? "INTERNAL" });
      throw err;
    }
    const storedAt = performance.now();
    this.metrics.ackLatency.observe((storedAt - started) / 1000);
    this.metrics.reportsIngested.inc();
    this.metrics.pointsIngested.inc(stored.points);
    this.metrics.actorMessages.inc({ actor: "ingest" });
    // Already durable: a window that cannot take it now re-reads storage when it next sees the agent.
    this.window.push(stored.agentId, stored.samples, stored.prevLastSeen)
      .then(async (applied) => {
        this.metrics.actorMessages.inc({ actor: "agent-window" });
        const appliedAt = performance.now();
        const events = await this.alerts.observe(stored.agentId, applied.observations, started);
        if (events.length) this.observeStages(started, storedAt, appliedAt);
      })
      .catch((err: unknown) => this.log.warn({ err, agentId: stored.agentId }, "a report's samples did not reach the agent window or rule evaluator"));
    for (const listener of this.listeners) listener(stored.agentId, stored.samples);
    return stored;
  }

  private observeStages(arrived: number, stored: number, applied: number): void {
    const stage = this.metrics.alertStage;
    stage.observe({ stage: "ingest" }, (stored - arrived) / 1000);
    stage.observe({ stage: "window" }, (applied - stored) / 1000);
    stage.observe({ stage: "evaluate" }, (performance.now() - applied) / 1000);
  }

  /** Called with every report once it is stored (the live feed listens here). */
  onStored(listener: (agentId: string, samples: SampleBlock) => void): void {
    this.listeners.push(listener);
  }
}
