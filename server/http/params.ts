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

/** `a,b,c` → its entries (absent: `fallback`); at most `max` entries, none empty. */
export function listParam(raw: string | undefined, name: string, fallback: readonly string[], max: number): string[] {
  if (raw === undefined) return [...fallback];
  const items = raw.split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) throw badRequest(name, "has an empty entry; separate entries with single commas");
  if (items.length > max) throw badRequest(name, `has ${items.length} entries; at most ${max} are allowed`);
  const long = items.find((s) => s.length > 256);
  if (long) throw badRequest(name, `"${long.slice(0, 40)}…" is longer than 256 characters`);
  return items;
}

const DURATION_UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration as `90s`, `15m`, `1h`, `1d` or whole seconds, within [minMs, maxMs]; `fallbackMs` when absent. */
export function durationParam(raw: string | undefined, name: string, fallbackMs: number, minMs: number, maxMs: number): number {
  if (raw === undefined) return fallbackMs;
  const m = /^(\d{1,9})([smhd]?)$/.exec(raw);
  if (!m) throw badRequest(name, `"${raw.slice(0, 40)}" is not a duration; use e.g. 900, 90s, 15m, 1h`);
  const ms = Number(m[1]) * DURATION_UNIT_MS[m[2] || "s"]!;
  if (ms < minMs || ms > maxMs) throw badRequest(name, `must be between ${minMs / 1000} s and ${maxMs / 1000} s`);
  return ms;
}
