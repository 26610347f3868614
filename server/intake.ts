import type { IngestPool, StoredReport } from "./actors/ingest-pool.ts";
import type { AcceptedReport, IngestTask, SampleBlock } from "./actors/messages.ts";
import type { WindowShards } from "./actors/window-shards.ts";
import { preciseNow } from "./actors/precise-clock.ts";
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
    private readonly metrics: ServerMetrics,
    private readonly log: Logger,
  ) {
    ingest.onAccepted((reports) => {
      for (const report of reports) {
        try {
          this.accepted(report);
        } catch (err) {
          // Runs in a message handler: a listener's fault must not end the process.
          this.log.error({ err, agentId: report.agentId }, "handing an accepted report on failed");
        }
      }
    });
  }

  async submit(task: IngestTask): Promise<StoredReport> {
    const arrivedAt = preciseNow();
    let stored: StoredReport;
    try {
      stored = await this.ingest.submit(task, arrivedAt);
    } catch (err) {
      this.metrics.reportsRefused.inc({ reason: (err as { code?: string }).code ?? "INTERNAL" });
      throw err;
    }
    this.metrics.ackLatency.observe((preciseNow() - arrivedAt) / 1000);
    this.metrics.reportsIngested.inc();
    this.metrics.pointsIngested.inc(stored.points);
    this.metrics.actorMessages.inc({ actor: "ingest" });
    return stored;
  }

  private accepted({ agentId, samples, prevLastSeen, arrivedAt }: AcceptedReport): void {
    // The window sends the rule observations on to the evaluator, whose events come back
    // through the alert engine. A window that cannot take the report now re-reads storage
    // when it next sees the agent.
    this.window.push(agentId, samples, prevLastSeen, { arrivedAt, acceptedAt: preciseNow() })
      .then((delivered) => {
        this.metrics.actorMessages.inc({ actor: "agent-window" });
        if (!delivered) this.log.warn({ agentId }, "a report's rule observations found no rule evaluator (restarting); the agent's next report observes again");
      })
      .catch((err: unknown) => this.log.warn({ err, agentId }, "a report's samples did not reach the agent window"));
    for (const listener of this.listeners) listener(agentId, samples);
  }

  /** Called with every report once it is accepted (the live feed listens here). */
  onAccepted(listener: (agentId: string, samples: SampleBlock) => void): void {
    this.listeners.push(listener);
  }
}
