import type { SystemInfo } from "../../common/metrics.ts";
import type { SampleBlock, SeriesRef } from "../../common/series-text.ts";
import { TsmonError } from "../../common/errors.ts";
import { retentionStartMs } from "../storage/days.ts";
import { LIMITS } from "./limits.ts";

const PRINTABLE_ID = /^[\x21-\x7e]+$/;
const METRIC_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]*$/;
const LABEL_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\x00-\x1f\x7f]/;

/** A report as the checks see it, whichever way it came. */
export interface ReportToCheck {
  agentId: string;
  samples: SampleBlock;
  /** Its series in point order; undefined when they passed before (the agent's last report
   *  had the same series), so only their count, values and timestamps are checked. */
  series: readonly SeriesRef[] | undefined;
  /** How many series the report names (one value each), checked or not. */
  seriesCount: number;
  systemInfo?: SystemInfo | undefined;
  /** How many check events come with it: a report of events alone needs no point. */
  checkEvents?: number;
}

/** How errors name a report's fields, so the sender's log points at what it sent. */
export interface FieldNames {
  points: string;
  point(i: number, field: "value" | "timestamp_ms" | "metric_name" | "labels"): string;
}

/** MetricBatchProto (ReportMetrics) and the JSON report: `data_points[3].value`. */
export const BATCH_FIELDS: FieldNames = { points: "data_points", point: (i, field) => `data_points[${i}].${field}` };

/** ColumnarReportProto (ReportStream): values, offsets and series are separate lists. */
export const COLUMNAR_FIELDS: FieldNames = {
  points: "values",
  point: (i, field) => field === "value" ? `values[${i}]` : field === "timestamp_ms" ? `timestamp of point ${i}` : `series[${i}].${field}`,
};

/**
 * Checks a whole report before anything of it is stored; throws INVALID_ARGUMENT naming
 * the first problem (field path and why), so the agent's log says what to fix. The agent id
 * is the caller's to check first (agentIdProblem), before it is looked up anywhere.
 */
export function validateReport(report: ReportToCheck, nowMs: number, retentionDays: number, names: FieldNames = BATCH_FIELDS): void {
  const fail = (where: string, why: string): never => {
    throw new TsmonError("INVALID_ARGUMENT", `${where}: ${why}`);
  };
  const { samples: { timestamps, values }, series } = report;
  const n = values.length;
  if (n === 0 && !report.checkEvents) fail(names.points, "a report needs at least one point (or check event)");
  if (n > LIMITS.maxPointsPerBatch) fail(names.points, `${n} points exceed the limit of ${LIMITS.maxPointsPerBatch} per report`);
  if (report.seriesCount !== n) fail("series", `${report.seriesCount} series for ${n} values; send one value per series`);
  if (report.systemInfo) {
    for (const [k, v] of Object.entries(report.systemInfo)) {
      if (typeof v === "string" && (v.length > LIMITS.labelValueMaxLength || CONTROL_CHARS.test(v))) {
        fail(`system_info.${k}`, `must be at most ${LIMITS.labelValueMaxLength} printable characters`);
      }
    }
  }
  const oldest = retentionStartMs(nowMs, retentionDays);
  const newest = nowMs + LIMITS.maxFutureMs;
  for (let i = 0; i < n; i++) {
    const value = values[i]!, ts = timestamps[i]!;
    if (!Number.isFinite(value)) fail(names.point(i, "value"), `must be a finite number, got ${value}`);
    if (!Number.isSafeInteger(ts) || ts <= 0) fail(names.point(i, "timestamp_ms"), "must be a positive integer (epoch ms)");
    if (ts > newest) fail(names.point(i, "timestamp_ms"), `${instant(ts)} is more than 5 minutes in the future`);
    if (ts < oldest) {
      fail(names.point(i, "timestamp_ms"), `${instant(ts)} is older than the retention window (${retentionDays} days)`);
    }
  }
  if (series) for (let i = 0; i < n; i++) validateSeries(series[i]!, i, names, fail);
}

function validateSeries([metric, labels]: SeriesRef, i: number, names: FieldNames, fail: (where: string, why: string) => never): void {
  if (!metric) fail(names.point(i, "metric_name"), "must not be empty");
  if (metric.length > LIMITS.metricNameMaxLength || !METRIC_NAME.test(metric)) {
    fail(names.point(i, "metric_name"), `"${clip(metric)}" must match ${METRIC_NAME.source} and be at most ${LIMITS.metricNameMaxLength} characters`);
  }
  const keys = Object.keys(labels);
  if (keys.length > LIMITS.maxLabelsPerPoint) fail(names.point(i, "labels"), `more than ${LIMITS.maxLabelsPerPoint} labels`);
  for (const k of keys) {
    if (k.length > LIMITS.labelKeyMaxLength || !LABEL_KEY.test(k)) {
      fail(names.point(i, "labels"), `key "${clip(k)}" must match ${LABEL_KEY.source} and be at most ${LIMITS.labelKeyMaxLength} characters`);
    }
    const v = labels[k]!;
    if (v.length > LIMITS.labelValueMaxLength) fail(`${names.point(i, "labels")}.${k}`, `value longer than ${LIMITS.labelValueMaxLength} characters`);
    if (CONTROL_CHARS.test(v)) fail(`${names.point(i, "labels")}.${k}`, "value contains control characters");
  }
}

/** Why an agent id is not acceptable, or null when it is (shared with the whitelist API). */
export function agentIdProblem(agentId: string): string | null {
  if (!agentId) return "must not be empty";
  if (agentId.length > LIMITS.agentIdMaxLength) return `longer than ${LIMITS.agentIdMaxLength} characters`;
  if (!PRINTABLE_ID.test(agentId)) return "must be printable ASCII without spaces";
  return null;
}

/** An instant as ISO 8601 where a Date can hold it, else as the raw number (no RangeError on a client's bad value). */
function instant(ts: number): string {
  return Math.abs(ts) <= 8.64e15 ? new Date(ts).toISOString() : `${ts} ms`;
}

function clip(text: string): string {
  return text.length > 40 ? text.slice(0, 40) + "…" : text;
}
