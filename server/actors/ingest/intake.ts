import type { Admission, Ticket } from "./admission.ts";
import type { IngestPool, StoredReport } from "./ingest-pool.ts";
import type { IngestTask, SampleBlock } from "../protocol/messages.ts";
import { preciseNow } from "../runtime/precise-clock.ts";
import type { IdleCollector } from "../runtime/idle-collector.ts";
import type { Logger } from "../../log.ts";
import type { ServerMetrics } from "../../observability/metrics.ts";

/**
 * Where reports enter the actor system, whatever their transport (gRPC or HTTP). Ingest
 * validates a report and writes it; the moment it is accepted, the ingest thread sends its
 * samples on to the agent window, side by side with the write, so an alert does not wait for
 * the report's fsync, and, while a live client watches, announces it here for the live feed.
 * The sender's acknowledgement comes once the report is durable (and announced, if it was).
 */
export class Intake {
  private readonly listeners: ((agentId: string, samples: SampleBlock) => void)[] = [];

  constructor(
    private readonly ingest: IngestPool,
    private readonly admission: Admission,
    private readonly metrics: ServerMetrics,
    private readonly log: Logger,
    /** Hears the bytes of every report answered or refused (see IdleCollector). */
    private readonly garbage: Pick<IdleCollector, "letGo">,
  ) {
    ingest.onAccepted((reports) => {
      for (const { agentId, samples } of reports) {
        for (const listener of this.listeners) {
          try {
            listener(agentId, samples);
          } catch (err) {
            // Runs in a message handler: a listener's fault must not end the process.
            this.log.error({ err, agentId }, "handing an accepted report on failed");
          }
        }
      }
    });
  }

  /** The sender a transport's report counts against (see Admission.identify); throws UNAUTHENTICATED. */
  identify(token: string | undefined, fallback: string): string {
    try {
      return this.admission.identify(token, fallback);
    } catch (err) {
      this.metrics.reportsRefused.inc({ reason: (err as { code?: string }).code ?? "INTERNAL" });
      throw err;
    }
  }

  /** Reports one sender may have in flight (a stream reads no more frames past it). */
  get perSender(): number {
    return this.admission.perSender;
  }

  /** Runs one report of `sender` (from identify) that arrived as `bytes`; resolves once it is durable. */
  async submit(task: IngestTask, sender: string, bytes: number): Promise<StoredReport> {
    const arrivedAt = preciseNow();
    let stored: StoredReport;
    let ticket: Ticket | undefined;
    try {
      ticket = this.admission.admit(sender, bytes);
      stored = await this.ingest.submit(task, arrivedAt);
    } catch (err) {
      this.metrics.reportsRefused.inc({ reason: (err as { code?: string }).code ?? "INTERNAL" });
      throw err;
    } finally {
      if (ticket) this.admission.release(ticket);
      this.garbage.letGo(bytes);
    }
    this.metrics.ackLatency.observe((preciseNow() - arrivedAt) / 1000);
    if (stored.duplicate) this.metrics.reportsDuplicate.inc();
    else this.metrics.reportsIngested.inc();
    this.metrics.pointsIngested.inc(stored.points);
    this.metrics.actorMessages.inc({ actor: "ingest" });
    return stored;
  }

  /** Called with every report once it is accepted, while IngestPool.announceSamples is on (the live feed listens here). */
  onAccepted(listener: (agentId: string, samples: SampleBlock) => void): void {
    this.listeners.push(listener);
  }
}
