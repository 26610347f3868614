import { TsmonError } from "../../common/errors.ts";
import type { CheckEvent } from "../../common/check-events.ts";
import { retentionStartMs } from "../storage/days.ts";
import { LIMITS } from "./limits.ts";

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\x00-\x1f\x7f]/;
/** As the agent's `[[checks]]` name: it becomes a label value and a key. */
const CHECK_NAME = /^[\x21-\x7e]+$/;

/**
 * Checks a report's check events as validateReport checks its points, before anything of
 * the report is stored: the first problem throws INVALID_ARGUMENT naming the field
 * (`check_events[2].hops[70]`), and the whole report is refused.
 */
export function validateCheckEvents(events: readonly CheckEvent[], nowMs: number, retentionDays: number): void {
  const fail = (where: string, why: string): never => {
    throw new TsmonError("INVALID_ARGUMENT", `check_events${where}: ${why}`);
  };
  if (events.length > LIMITS.maxCheckEventsPerReport) fail("", `${events.length} events exceed the limit of ${LIMITS.maxCheckEventsPerReport} per report`);
  const oldest = retentionStartMs(nowMs, retentionDays);
  const newest = nowMs + LIMITS.maxFutureMs;
  events.forEach((e, i) => {
    const at = `[${i}]`;
    if (!CHECK_NAME.test(e.check) || e.check.length > LIMITS.checkNameMaxLength) {
      fail(`${at}.check`, `must be 1 to ${LIMITS.checkNameMaxLength} printable ASCII characters without spaces`);
    }
    text(e.type, LIMITS.checkTypeMaxLength, `${at}.type`, fail);
    text(e.target, LIMITS.labelValueMaxLength, `${at}.target`, fail);
    text(e.reasonCode, LIMITS.reasonCodeMaxLength, `${at}.reason_code`, fail);
    // Messages and details are free text for people: newlines and tabs are fine, lengths are bounded.
    if ((e.reasonMessage?.length ?? 0) > LIMITS.checkTextMaxLength) fail(`${at}.reason_message`, `longer than ${LIMITS.checkTextMaxLength} characters`);
    if ((e.detail?.length ?? 0) > LIMITS.checkTextMaxLength) fail(`${at}.detail`, `longer than ${LIMITS.checkTextMaxLength} characters`);
    const ts = e.timestampMs;
    if (!Number.isSafeInteger(ts) || ts <= 0) fail(`${at}.timestamp_ms`, "must be a positive integer (epoch ms)");
    if (ts > newest) fail(`${at}.timestamp_ms`, "is more than 5 minutes in the future");
    if (ts < oldest) fail(`${at}.timestamp_ms`, `is older than the retention window (${retentionDays} days)`);
    const hops = e.hops ?? [];
    if (hops.length && e.kind !== "traceroute") fail(`${at}.hops`, `only a traceroute event has hops (kind is ${e.kind})`);
    if (hops.length > LIMITS.maxTracerouteHops) fail(`${at}.hops`, `${hops.length} hops exceed the limit of ${LIMITS.maxTracerouteHops}`);
    hops.forEach((hop, h) => {
      const where = `${at}.hops[${h}]`;
      if (!Number.isInteger(hop.ttl) || hop.ttl < 1 || hop.ttl > LIMITS.maxTracerouteTtl) fail(`${where}.ttl`, `must be an integer from 1 to ${LIMITS.maxTracerouteTtl}`);
      text(hop.address, LIMITS.hopAddressMaxLength, `${where}.address`, fail);
      if (hop.rttsMs.length > LIMITS.maxRttsPerHop) fail(`${where}.rtt_ms`, `${hop.rttsMs.length} probes exceed the limit of ${LIMITS.maxRttsPerHop} per hop`);
      hop.rttsMs.forEach((rtt, r) => {
        if (rtt !== null && !Number.isFinite(rtt)) fail(`${where}.rtt_ms[${r}]`, `must be a finite number of ms, or negative for no answer; got ${rtt}`);
      });
    });
  });
}

function text(value: string | undefined, max: number, where: string, fail: (where: string, why: string) => never): void {
  if (value === undefined) return;
  if (value.length > max) fail(where, `longer than ${max} characters`);
  if (CONTROL_CHARS.test(value)) fail(where, "contains control characters");
}
