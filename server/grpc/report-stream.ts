import * as grpc from "@grpc/grpc-js";
import { ERROR_CODES, TsmonError, toErrorData } from "../../common/errors.ts";
import { callSender, callToken } from "./metric-service.ts";
import { encodeReportAck } from "../ingest/decode.ts";
import { DUPLICATE_MESSAGE } from "../ingest/report-key.ts";
import { scanFrame } from "../ingest/columnar.ts";
import { ownBytes } from "./own-bytes.ts";
import type { Intake } from "../actors/ingest/intake.ts";
import type { Logger } from "../log.ts";
import type { ServerMetrics } from "../observability/metrics.ts";

/** Bytes of series declarations one stream may hold; past it, the stream ends and the sender opens a new one. */
const MAX_DECLARED_BYTES = 16 << 20;
/** The declaration of no series at all. */
const NO_SERIES = new Uint8Array(0);

/** What a declaration costs beside its bytes (its map entry), so many tiny ones count too. */
const DECLARATION_OVERHEAD = 64;

const OK_ACK = encodeReportAck(grpc.status.OK, "");
/** OK too: the agent may forget the report; the message tells its log why nothing was stored. */
const DUPLICATE_ACK = encodeReportAck(grpc.status.OK, DUPLICATE_MESSAGE);
const SHUTTING_DOWN = [grpc.status.UNAVAILABLE, "server is shutting down; reconnect and resend"] as const;

/**
 * oxmon.MetricService/ReportStream (a tsmon extension): a long-lived stream of columnar
 * reports, each acknowledged exactly once, in the order it came, with the status a unary
 * ReportMetrics call would have ended with. The stream costs one HTTP/2 stream and one
 * authentication header for all of an agent's reports, and its series are declared once.
 * The main thread reads only a frame's shape number; ingest threads decode the rest. A
 * stream has at most its sender's share of ingest in flight (Admission): past it the stream
 * is not read until acknowledgements go out, so a busy stream is slowed by flow control.
 * Several streams of one sender (a reconnect overlapping the old stream) share the quota:
 * a frame past it is answered RESOURCE_EXHAUSTED, retryable.
 */
export class ReportStreams {
  private readonly open = new Set<ReportStream>();
  private closing = false;

  constructor(private readonly intake: Intake, private readonly metrics: ServerMetrics, private readonly log: Logger) {}

  readonly handler: grpc.handleBidiStreamingCall<Buffer, Buffer> = (call) => {
    const token = callToken(call.metadata);
    let sender: string;
    try {
      // Before a frame is read: a stream without a valid token costs one lookup, no more.
      sender = this.intake.identify(token, callSender(call.metadata, call.getPeer()));
    } catch (err) {
      const e = toErrorData(err);
      call.pause();
      call.emit("error", { code: ERROR_CODES[e.code].grpc, details: e.message });
      return;
    }
    const stream = new ReportStream(call, token, sender, this.intake, this.metrics, this.log, () => this.open.delete(stream));
    this.open.add(stream);
    if (this.closing) void stream.finish(...SHUTTING_DOWN);
  };

  get size(): number {
    return this.open.size;
  }

  /** At shutdown: every stream stops reading, answers what it took in, then ends with
   *  UNAVAILABLE, so its sender reconnects (to another instance) and resends the rest. */
  close(): Promise<void> {
    this.closing = true; // a stream whose headers are already in is ended as it opens
    return Promise.all([...this.open].map((s) => s.finish(...SHUTTING_DOWN))).then(() => {});
  }
}

class ReportStream {
  /** Declarations by shape number, as scanFrame copied them. */
  private readonly shapes = new Map<number, Uint8Array>();
  private declaredBytes = 0;
  /** Acknowledgements in frame order from frame number `base`; undefined while in flight. */
  private acks: (Buffer | undefined)[] = [];
  private base = 0;
  /** The next one to write, as an index into `acks`. */
  private head = 0;
  /** Set once the stream takes no more frames: it ends when the last acknowledgement is out. */
  private ending: { code: grpc.status; details: string; done: Promise<void>; resolve: () => void } | undefined;
  private gone = false;
  /** The last write found the outgoing buffer full: read no more frames until it drains
   *  (a sender that never reads its acknowledgements must not grow the server's memory). */
  private backlogged = false;

  constructor(
    private readonly call: grpc.ServerDuplexStream<Buffer, Buffer>,
    private readonly token: string | undefined,
    /** Who the stream's reports count against (Admission). */
    private readonly sender: string,
    private readonly intake: Intake,
    private readonly metrics: ServerMetrics,
    private readonly log: Logger,
    private readonly onGone: () => void,
  ) {
    call.on("data", (frame: Buffer) => this.take(frame));
    // The sender closed its side: answer what is in flight, then end with OK.
    call.on("end", () => void this.finish(grpc.status.OK, "OK"));
    call.on("drain", () => {
      this.backlogged = false;
      this.flush();
    });
    call.on("cancelled", () => this.close());
    call.on("error", (err) => {
      this.log.debug({ err }, "report stream failed");
      this.close();
    });
  }

  private take(frame: Buffer): void {
    const n = this.base + this.acks.push(undefined) - 1;
    if (this.acks.length - this.head >= this.intake.perSender) this.call.pause();
    let declaration: Uint8Array | undefined;
    try {
      const head = scanFrame(frame);
      if (head.declaration) this.declare(head.shape, head.declaration);
      // Shape 0, undeclared: a report without points (check events alone) names no series.
      declaration = this.shapes.get(head.shape) ?? (head.shape === 0 ? NO_SERIES : undefined);
      if (!declaration) {
        throw new TsmonError("INVALID_ARGUMENT",
          `shape ${head.shape} was not declared on this stream: send its series with the first report that uses it`);
      }
    } catch (err) {
      // Refused before ingest saw it (which counts its own refusals).
      this.metrics.reportsRefused.inc({ reason: toErrorData(err).code });
      this.answer(n, err);
      return;
    }
    this.intake.submit({ type: "report-columns", frame: ownBytes(frame), declaration, auth: { token: this.token } }, this.sender, frame.length)
      .then((stored) => this.answer(n, undefined, stored.duplicate), (err: unknown) => this.answer(n, err));
  }

  private declare(shape: number, declaration: Uint8Array): void {
    const prev = this.shapes.get(shape);
    const bytes = this.declaredBytes - (prev ? prev.length + DECLARATION_OVERHEAD : 0) + declaration.length + DECLARATION_OVERHEAD;
    if (bytes > MAX_DECLARED_BYTES) {
      void this.finish(grpc.status.RESOURCE_EXHAUSTED,
        `this stream declared more than ${MAX_DECLARED_BYTES >> 20} MiB of series; open a new stream`);
      throw new TsmonError("RESOURCE_EXHAUSTED", "too many series declared on this stream; open a new stream and resend", true);
    }
    this.declaredBytes = bytes;
    this.shapes.set(shape, declaration);
  }

  /** `frame`: the frame's number on this stream. */
  private answer(frame: number, err: unknown, duplicate?: boolean): void {
    let ack = duplicate ? DUPLICATE_ACK : OK_ACK;
    if (err !== undefined) {
      const e = toErrorData(err);
      if (e.code === "INTERNAL") this.log.error({ err }, "report failed");
      ack = encodeReportAck(ERROR_CODES[e.code].grpc, e.message);
    }
    this.acks[frame - this.base] = ack;
    this.flush();
  }

  /** Writes the acknowledgements that are next in order. */
  private flush(): void {
    for (let ack = this.acks[this.head]; ack !== undefined; ack = this.acks[this.head]) {
      this.acks[this.head++] = undefined;
      if (!this.gone && !this.call.write(ack)) this.backlogged = true;
    }
    // Drop what was written: a stream that never runs dry would otherwise grow its queue forever.
    if (this.head === this.acks.length || this.head >= 1024) {
      this.acks = this.acks.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
    if (this.ending && this.head === this.acks.length) this.end();
    else if (this.backlogged) this.call.pause();
    else if (!this.ending && this.acks.length - this.head < this.intake.perSender / 2 && this.call.isPaused()) this.call.resume();
  }

  /** Takes no more frames; once every report taken is answered, ends with this status. */
  finish(code: grpc.status, details: string): Promise<void> {
    if (!this.ending) {
      let resolve!: () => void;
      const done = new Promise<void>((r) => (resolve = r));
      this.ending = { code, details, done, resolve };
      this.call.pause();
      if (this.head === this.acks.length) this.end();
    }
    return this.ending.done;
  }

  private end(): void {
    const { code, details } = this.ending!;
    if (!this.gone) {
      if (code === grpc.status.OK) this.call.end();
      else this.call.emit("error", { code, details });
    }
    this.close();
  }

  private close(): void {
    if (this.gone) return;
    this.gone = true;
    this.ending?.resolve();
    this.onGone();
  }
}
