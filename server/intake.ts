import type { IngestPool, StoredReport } from "./actors/ingest-pool.ts";
import type { AcceptedReport, IngestTask, SampleBlock } from "./actors/messages.ts";
import type { WindowShards } from "./actors/window-shards.ts";
import type { AlertEngine } from "./alerts/engine.ts";
import type { Logger } from "./log.ts";
import type { ServerMetrics } from "./observability/metrics.ts";

/**
 * Where reports enter the actor system, whatever their transport (gRPC or HTTP). Ingest
 * validates a report and writes it; the moment it is accepted, its samples go on to the agent
 * window (and the live feed), side by side with the write, so an alert does not wait for the
 * report's fsync. The sender's acknowledgement does: it comes once the report is durable.
 */
export class Intake {
  private readonly listeners: ((agentId: string, samples: SampleBlock) => void)[] = [];

  constructor(
    private readonly ingest: IngestPool,
    private readonly window: WindowShards,
    private readonly alerts: AlertEngine,
    private readonly metrics: ServerMetrics,
    private readonly log: Logger,
  ) {
    ingest.onAccepted((reports) => { for (const report of reports) this.accepted(report); });
  }

  async submit(task: IngestTask): Promise<StoredReport> {
    const arrivedAt = performance.now();
    let stored: StoredReport;
    try {
      stored = await this.ingest.submit(task, arrivedAt);
    } catch (err) {
      this.metrics.reportsRefused.inc({ reason: (err as { code?: string }).code ?? "INTERNAL" });
      throw err;
    }
    this.metrics.ackLatency.observe((performance.now() - arrivedAt) / 1000);
    this.metrics.reportsIngested.inc();
    this.metrics.pointsIngested.inc(stored.points);
    this.metrics.actorMessages.inc({ actor: "ingest" });
    return stored;
  }

  private accepted({ agentId, samples, prevLastSeen, arrivedAt }: AcceptedReport): void {
    const acceptedAt = performance.now();
    // A window that cannot take it now re-reads storage when it next sees the agent.
    this.window.push(agentId, samples, prevLastSeen)
      .then(async (applied) => {
        this.metrics.actorMessages.inc({ actor: "agent-window" });
        const appliedAt = performance.now();
        const events = await this.alerts.observe(agentId, applied.observations, arrivedAt);
        if (events.length) this.observeStages(arrivedAt, acceptedAt, appliedAt);
      })
      .catch((err: unknown) => this.log.warn({ err, agentId }, "a report's samples did not reach the agent window or rule evaluator"));
    for (const listener of this.listeners) listener(agentId, samples);
  }

  private observeStages(arrived: number, accepted: number, applied: number): void {
    const stage = this.metrics.alertStage;
    stage.observe({ stage: "ingest" }, (accepted - arrived) / 1000);
    stage.observe({ stage: "window" }, (applied - accepted) / 1000);
    stage.observe({ stage: "evaluate" }, (performance.now() - applied) / 1000);
  }

  /** Called with every report once it is accepted (the live feed listens here). */
  onAccepted(listener: (agentId: string, samples: SampleBlock) => void): void {
    this.listeners.push(listener);
  }
}
