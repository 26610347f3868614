import * as grpc from "@grpc/grpc-js";
import type { MetricBatch } from "../common/metrics.ts";
import { toSeriesText, type SeriesRef } from "../common/series-text.ts";
import type { SendOutcome } from "./sender.ts";
import { decodeReportAck, encodeColumnarReport } from "./wire.ts";

/** The streaming RPC of proto/metrics.proto (a tsmon extension). */
export const REPORT_STREAM = "/oxmon.MetricService/ReportStream";

export interface StreamSendOptions {
  /** Absolute deadline (epoch ms) of this report's acknowledgement. */
  deadline: number;
  /** When the stream has to be opened: wait for a connection instead of failing at once. */
  waitForReady?: boolean;
}

export interface ReportStreamOptions {
  metadata: grpc.Metadata;
  /** Series lists remembered per stream (default 16): an agent has one, a load generator many. */
  maxShapes?: number;
}

interface Pending {
  resolve: (outcome: SendOutcome) => void;
  deadline: number;
}

const identity = (b: Buffer): Buffer => b;

/**
 * Reports over one long-lived ReportStream call. Each report's series are declared once per
 * stream under a number, later reports carry the number and their values; the server answers
 * every report, in order, so acknowledgements are matched first in, first out. Any end of the
 * stream (the server going away, a deadline passing) answers what is in flight with that
 * status, and the next report opens a new stream, whose shapes start over.
 */
export class ReportStreamClient {
  private call: grpc.ClientDuplexStream<Buffer, Buffer> | undefined;
  private shapes = new Map<string, number>();
  private nextShape = 1;
  private readonly pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Whether the current stream has answered anything: a server without the RPC never does. */
  private answered = false;
  private readonly maxShapes: number;

  constructor(private readonly client: grpc.Client, private readonly options: ReportStreamOptions) {
    this.maxShapes = Math.max(1, options.maxShapes ?? 16);
  }

  /** Whether a stream is open and has been answered on: its server has the RPC. */
  get proven(): boolean {
    return this.call !== undefined && this.answered;
  }

  send(batch: MetricBatch, droppedBatches: number, options: StreamSendOptions): Promise<SendOutcome> {
    const call = this.call ?? this.open(options.waitForReady ?? false);
    const refs: SeriesRef[] = batch.points.map((p) => [p.metric, p.labels]);
    const key = toSeriesText(refs);
    // A report without points (check events alone) is shape 0, which names no series undeclared.
    let shape = refs.length === 0 ? 0 : this.shapes.get(key);
    let declare: SeriesRef[] | undefined;
    if (shape === undefined) {
      shape = this.shapeNumber();
      this.shapes.set(key, shape);
      declare = refs;
    }
    return new Promise((resolve) => {
      this.pending.push({ resolve, deadline: options.deadline });
      if (this.pending.length === 1) this.armTimer();
      call.write(encodeColumnarReport(batch, droppedBatches, shape, declare));
    });
  }

  /** Ends the stream; reports in flight are answered CANCELLED. */
  close(): void {
    this.call?.cancel();
    this.ended(grpc.status.CANCELLED, "the agent closed the stream");
  }

  /** A new number, or (past maxShapes) the oldest one's, which the next declaration replaces on the server too. */
  private shapeNumber(): number {
    if (this.shapes.size < this.maxShapes) return this.nextShape++;
    const [oldest, number] = this.shapes.entries().next().value!;
    this.shapes.delete(oldest);
    return number;
  }

  private open(waitForReady: boolean): grpc.ClientDuplexStream<Buffer, Buffer> {
    const metadata = this.options.metadata.clone();
    // grpc-js takes wait-for-ready as a metadata option, not a call option.
    metadata.setOptions({ waitForReady });
    const call = this.client.makeBidiStreamRequest(REPORT_STREAM, identity, identity, metadata);
    this.call = call;
    this.answered = false;
    this.shapes = new Map();
    this.nextShape = 1;
    call.on("data", (bytes: Buffer) => {
      if (call !== this.call) return;
      this.answered = true;
      const next = this.pending.shift();
      this.armTimer();
      if (!next) return; // more answers than reports: nothing to match it to
      try {
        const ack = decodeReportAck(bytes);
        next.resolve({ code: ack.code, message: ack.message });
      } catch (err) {
        next.resolve({ code: grpc.status.INTERNAL, message: `unreadable acknowledgement: ${(err as Error).message}` });
      }
    });
    call.on("status", (status: grpc.StatusObject) => {
      if (call !== this.call) return;
      const code = status.code === grpc.status.OK ? grpc.status.UNAVAILABLE : status.code;
      this.ended(code, status.code === grpc.status.OK ? "the server ended the stream before answering" : status.details);
    });
    call.on("error", () => {}); // the status above carries it
    return call;
  }

  /** Answers every report in flight with `code` and forgets the stream. */
  private ended(code: grpc.status, message: string): void {
    this.call = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const p of this.pending.splice(0)) p.resolve({ code, message });
  }

  /** One timer, for the oldest report in flight: past its deadline, the stream is given up. */
  private armTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const oldest = this.pending[0];
    if (!oldest) return;
    const call = this.call;
    this.timer = setTimeout(() => {
      call?.cancel();
      if (call === this.call) this.ended(grpc.status.DEADLINE_EXCEEDED, "no acknowledgement before the deadline");
    }, Math.max(0, oldest.deadline - Date.now()));
  }
}
