import { TsmonError } from "../../common/errors.ts";
import { CHECK_EVENT_KINDS, checkEventKindOf, type CheckEvent, type CheckEventKind, type TracerouteHop } from "../../common/check-events.ts";
import { FIXED64, LENGTH_DELIMITED, ProtoError, ProtoReader, VARINT } from "../../common/proto-reader.ts";
import type { ReportJson } from "./report-json.ts";

/*
 * A report's check_events (CheckEventProto) from each of its three encodings into one
 * CheckEvent: hand-decoded from a ReportStream frame, from protobufjs's object for
 * ReportMetrics, from the JSON report. Bounds are validateCheckEvents' to check; here only
 * what cannot be represented (an unknown kind) is refused.
 */

/** An rtt on the wire: negative (or JSON null) is a probe without an answer. */
const rttOf = (v: number | null | undefined): number | null => (v === null || v === undefined || v < 0 ? null : v);

function kindOf(raw: number | string | undefined, i: number): CheckEventKind {
  const kind = typeof raw === "string" ? (CHECK_EVENT_KINDS as readonly string[]).includes(raw) ? raw as CheckEventKind : undefined : checkEventKindOf(raw ?? 0);
  if (kind) return kind;
  throw new TsmonError("INVALID_ARGUMENT", `check_events[${i}].kind: ${JSON.stringify(raw ?? 0)} is not one of ${CHECK_EVENT_KINDS.join(", ")} (CHECK_EVENT_FIRST..CHECK_EVENT_TRACEROUTE, 1..4)`);
}

function event(fields: Omit<CheckEvent, "kind">, kind: CheckEventKind): CheckEvent {
  const e: CheckEvent = { check: fields.check, type: fields.type, target: fields.target, timestampMs: fields.timestampMs, kind, up: fields.up };
  // Proto3 sends "" for absent text: absent it stays.
  if (fields.reasonCode) e.reasonCode = fields.reasonCode;
  if (fields.reasonMessage) e.reasonMessage = fields.reasonMessage;
  if (fields.detail) e.detail = fields.detail;
  if (fields.hops?.length) e.hops = fields.hops;
  return e;
}

/** One CheckEventProto of a frame, `input` positioned on its length (after the tag). */
export function decodeCheckEventProto(outer: ProtoReader, i: number, batchTs: number): CheckEvent {
  const [start, end] = outer.span();
  const input = new ProtoReader(outer.bytes, start, end);
  let check = "", type = "", target = "", timestampMs = 0, kind = 0, up = false, reasonCode = "", reasonMessage = "", detail = "";
  const hops: TracerouteHop[] = [];
  while (!input.done) {
    const [field, wireType] = input.tag();
    if (wireType === LENGTH_DELIMITED && field >= 1 && field <= 3) {
      const text = input.string();
      if (field === 1) check = text; else if (field === 2) type = text; else target = text;
    } else if (field === 4 && wireType === VARINT) timestampMs = input.varint();
    else if (field === 5 && wireType === VARINT) kind = input.varint();
    else if (field === 6 && wireType === VARINT) up = input.varint() !== 0;
    else if (field === 7 && wireType === LENGTH_DELIMITED) reasonCode = input.string();
    else if (field === 8 && wireType === LENGTH_DELIMITED) reasonMessage = input.string();
    else if (field === 9 && wireType === LENGTH_DELIMITED) detail = input.string();
    else if (field === 10 && wireType === LENGTH_DELIMITED) hops.push(decodeHop(input));
    else input.skip(wireType);
  }
  return event({ check, type, target, timestampMs: timestampMs || batchTs, up, reasonCode, reasonMessage, detail, hops }, kindOf(kind, i));
}

function decodeHop(outer: ProtoReader): TracerouteHop {
  const [start, end] = outer.span();
  const input = new ProtoReader(outer.bytes, start, end);
  const hop: TracerouteHop = { ttl: 0, rttsMs: [] };
  while (!input.done) {
    const [field, wireType] = input.tag();
    if (field === 1 && wireType === VARINT) hop.ttl = input.varint();
    else if (field === 2 && wireType === LENGTH_DELIMITED) {
      const address = input.string();
      if (address) hop.address = address;
    } else if (field === 3 && wireType === LENGTH_DELIMITED) {
      const [s, e] = input.span();
      if ((e - s) % 8 !== 0) throw new ProtoError("packed rtt_ms of a length that is not a multiple of 8");
      const packed = new ProtoReader(input.bytes, s, e);
      while (!packed.done) hop.rttsMs.push(rttOf(packed.double()));
    } else if (field === 3 && wireType === FIXED64) hop.rttsMs.push(rttOf(input.double()));
    else input.skip(wireType);
  }
  return hop;
}

/** CheckEventProto as protobufjs decodes it (camelCase; int64 as numbers). */
export interface CheckEventMessage {
  check?: string; type?: string; target?: string; timestampMs?: number; kind?: number; up?: boolean;
  reasonCode?: string; reasonMessage?: string; detail?: string;
  hops?: { ttl?: number; address?: string; rttMs?: number[] }[];
}

export function fromCheckEventMessage(m: CheckEventMessage, i: number, batchTs: number): CheckEvent {
  return event({
    check: m.check ?? "", type: m.type ?? "", target: m.target ?? "", timestampMs: m.timestampMs || batchTs, up: m.up ?? false,
    reasonCode: m.reasonCode, reasonMessage: m.reasonMessage, detail: m.detail,
    hops: (m.hops ?? []).map((h) => ({ ttl: h.ttl ?? 0, ...(h.address ? { address: h.address } : {}), rttsMs: (h.rttMs ?? []).map(rttOf) })),
  }, kindOf(m.kind, i));
}

export function fromCheckEventJson(j: NonNullable<ReportJson["check_events"]>[number], i: number, batchTs: number): CheckEvent {
  return event({
    check: j.check, type: j.type ?? "", target: j.target ?? "", timestampMs: j.timestamp_ms || batchTs, up: j.up ?? false,
    reasonCode: j.reason_code, reasonMessage: j.reason_message, detail: j.detail,
    hops: (j.hops ?? []).map((h) => ({ ttl: h.ttl, ...(h.address ? { address: h.address } : {}), rttsMs: (h.rtt_ms ?? []).map(rttOf) })),
  }, kindOf(j.kind, i));
}
