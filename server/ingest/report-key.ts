import { TsmonError } from "../../common/errors.ts";
import type { ReportKey } from "../storage/report-keys.ts";

/** The acknowledgement's message for a resend of a stored report (agents log it; it is still success). */
export const DUPLICATE_MESSAGE = "duplicate: this report (stream_id, sequence) was stored before; nothing stored again";

const STREAM_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The exactly-once key a report carries, checked: none when it has no stream id (an oxmon
 * agent, a seed); INVALID_ARGUMENT naming the field when the id or sequence is malformed.
 */
export function reportKeyOf(streamId: string | undefined, sequence: number | undefined): ReportKey | undefined {
  if (!streamId) return undefined;
  if (!STREAM_ID.test(streamId)) {
    throw new TsmonError("INVALID_ARGUMENT", `stream_id: must be 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'`);
  }
  const n = sequence ?? 0;
  if (!Number.isSafeInteger(n) || n < 0) throw new TsmonError("INVALID_ARGUMENT", `sequence: must be a non-negative integer, got ${n}`);
  return { streamId, sequence: n };
}
