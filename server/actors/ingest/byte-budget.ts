import { TsmonError } from "../../../common/errors.ts";

/**
 * Bytes of requests the server holds at once: reports from the moment a transport hands
 * them over until they are answered, and HTTP bodies while they are read. Past the limit a
 * request is refused at once (RESOURCE_EXHAUSTED / 429), before it costs a copy or a decode.
 */
export class ByteBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  /** Takes `bytes`, or throws a retryable RESOURCE_EXHAUSTED when they would pass the limit. */
  take(bytes: number): void {
    if (this.used + bytes > this.limit) {
      throw new TsmonError("RESOURCE_EXHAUSTED",
        `the server holds ${mib(this.used)} MiB of requests, its limit is ${mib(this.limit)} MiB ([actors] ingest_queue_bytes); keep the report and retry later`, true);
    }
    this.used += bytes;
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
