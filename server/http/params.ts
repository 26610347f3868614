import { badRequest } from "./errors.ts";

type Query = Record<string, string | string[] | undefined>;

/** A single-valued query parameter; repeated parameters are refused rather than guessed at. */
export function queryParam(query: Query, name: string, required: true): string;
export function queryParam(query: Query, name: string, required?: false): string | undefined;
export function queryParam(query: Query, name: string, required = false): string | undefined {
  const raw = query[name];
  if (Array.isArray(raw)) throw badRequest(name, "given more than once");
  if (raw === undefined || raw === "") {
    if (required) throw badRequest(name, "is required");
    return undefined;
  }
  return raw;
}

/** The largest epoch-milliseconds a JavaScript Date holds (year 275760). */
const MAX_TIME_MS = 8_640_000_000_000_000;

/** A time given as ISO 8601 (`2026-11-23T10:00:00Z`) or epoch milliseconds. */
export function parseTime(name: string, raw: string): number {
  if (/^\d{1,16}$/.test(raw)) {
    const ms = Number(raw);
    if (ms > MAX_TIME_MS) throw badRequest(name, `${raw} is past the last instant a date can hold (${MAX_TIME_MS})`);
    return ms;
  }
  const ms = Date.parse(raw);
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(ms)) {
    throw badRequest(name, `"${raw.slice(0, 40)}" is neither ISO 8601 (2026-11-23T10:00:00Z) nor epoch milliseconds`);
  }
  return ms;
}

/** `labels=mount:/data,device:sda` → `{ mount: "/data", device: "sda" }`. */
export function parseLabelFilter(name: string, raw: string | undefined): Record<string, string> {
  const filter: Record<string, string> = {};
  if (!raw) return filter;
  for (const pair of raw.split(",")) {
    const at = pair.indexOf(":");
    if (at <= 0) throw badRequest(name, `"${pair.slice(0, 40)}" is not key:value`);
    filter[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return filter;
}

/** A whole-number parameter within [min, max]; `fallback` when absent. */
export function intParam(raw: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw badRequest(name, "must be a whole number");
  const n = Number(raw);
  if (n < min || n > max) throw badRequest(name, `must be between ${min} and ${max}`);
  return n;
}
