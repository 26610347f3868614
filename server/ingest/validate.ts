import type { MetricBatch } from "../../common/metrics.ts";
import { TsmonError } from "../../common/errors.ts";
import { retentionStartMs } from "../storage/days.ts";
import { LIMITS } from "./limits.ts";

const PRINTABLE_ID = /^[\x21-\x7e]+$/;
const METRIC_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]*$/;
const LABEL_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\x00-\x1f\x7f]/;

/**
 * Checks a whole report before anything of it is stored; throws INVALID_ARGUMENT naming
 * the first problem (field path and why), so the agent's log says what to fix.
 * `seriesChecked`: the report's metric names and labels passed before (the agent's last
 * report had the same series), so only its values and timestamps are checked.
 */
export function validateBatch(batch: MetricBatch, nowMs: number, retentionDays: number, seriesChecked = false): void {
  const fail = (where: string, why: string): never => {
    throw new TsmonError("INVALID_ARGUMENT", `${where}: ${why}`);
  };
  const { agentId, points } = batch;
  const idProblem = agentIdProblem(agentId);
  if (idProblem) fail("agent_id", idProblem);
  if (points.length === 0) fail("data_points", "a report needs at least one point");
  if (points.length > LIMITS.maxPointsPerBatch) {
    fail("data_points", `${points.length} points exceed the limit of ${LIMITS.maxPointsPerBatch} per report`);
  }
  if (batch.systemInfo) {
    for (const [k, v] of Object.entries(batch.systemInfo)) {
      if (typeof v === "string" && (v.length > LIMITS.labelValueMaxLength || CONTROL_CHARS.test(v))) {
        fail(`system_info.${k}`, `must be at most ${LIMITS.labelValueMaxLength} printable characters`);
      }
    }
  }
  const oldest = retentionStartMs(nowMs, retentionDays);
  const newest = nowMs + LIMITS.maxFutureMs;
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    const at = `data_points[${i}]`;
    if (!Number.isFinite(p.value)) fail(`${at}.value`, `must be a finite number, got ${p.value}`);
    if (!Number.isSafeInteger(p.timestampMs) || p.timestampMs <= 0) fail(`${at}.timestamp_ms`, "must be a positive integer (epoch ms)");
    if (p.timestampMs > newest) fail(`${at}.timestamp_ms`, `${new Date(p.timestampMs).toISOString()} is more than 5 minutes in the future`);
    if (p.timestampMs < oldest) {
      fail(`${at}.timestamp_ms`, `${new Date(p.timestampMs).toISOString()} is older than the retention window (${retentionDays} days)`);
    }
    if (seriesChecked) continue;
    if (!p.metric) fail(`${at}.metric_name`, "must not be empty");
    if (p.metric.length > LIMITS.metricNameMaxLength || !METRIC_NAME.test(p.metric)) {
      fail(`${at}.metric_name`, `"${clip(p.metric)}" must match ${METRIC_NAME.source} and be at most ${LIMITS.metricNameMaxLength} characters`);
    }
    const keys = Object.keys(p.labels);
    if (keys.length > LIMITS.maxLabelsPerPoint) fail(`${at}.labels`, `more than ${LIMITS.maxLabelsPerPoint} labels`);
    for (const k of keys) {
      if (k.length > LIMITS.labelKeyMaxLength || !LABEL_KEY.test(k)) {
        fail(`${at}.labels`, `key "${clip(k)}" must match ${LABEL_KEY.source} and be at most ${LIMITS.labelKeyMaxLength} characters`);
      }
      const v = p.labels[k]!;
      if (v.length > LIMITS.labelValueMaxLength) fail(`${at}.labels.${k}`, `value longer than ${LIMITS.labelValueMaxLength} characters`);
      if (CONTROL_CHARS.test(v)) fail(`${at}.labels.${k}`, "value contains control characters");
    }
  }
}

/** Why an agent id is not acceptable, or null when it is (shared with the whitelist API). */
export function agentIdProblem(agentId: string): string | null {
  if (!agentId) return "must not be empty";
  if (agentId.length > LIMITS.agentIdMaxLength) return `longer than ${LIMITS.agentIdMaxLength} characters`;
  if (!PRINTABLE_ID.test(agentId)) return "must be printable ASCII without spaces";
  return null;
}

function clip(text: string): string {
  return text.length > 40 ? text.slice(0, 40) + "…" : text;
}
