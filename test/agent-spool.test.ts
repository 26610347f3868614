import test from "ava";
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { MetricBatch } from "../common/metrics.ts";
import { Spool } from "../agent/spool.ts";
import { crc32, crc32InJs, encodeRecord, scanRecords } from "../agent/spool-format.ts";

function tempDir(t: import("ava").ExecutionContext): string {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-spool-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const batch = (ts: number, pad = 0): MetricBatch => ({
  agentId: "web-1", timestampMs: ts, points: [{ timestampMs: ts, metric: "cpu.usage", value: ts % 100, labels: pad ? { pad: "x".repeat(pad) } : {} }],
});

const segments = (dir: string) => readdirSync(dir).filter((n) => n.startsWith("seg-")).sort();

/** Takes every report out, oldest first, as the reporter does once each is acknowledged. */
function drain(spool: Spool): number[] {
  const out: number[] = [];
  for (let r = spool.peek(); r; r = spool.peek()) {
    out.push(r.batch.timestampMs);
    spool.remove(r.sequence);
  }
  return out;
}

test("crc32 is zlib's (IEEE), in JavaScript too, and continues from a given crc", (t) => {
  for (const crc of [crc32, crc32InJs]) {
    t.is(crc(Buffer.from("123456789")), 0xcbf43926);
    t.is(crc(Buffer.alloc(0)), 0);
    t.is(crc(Buffer.from("56789"), crc(Buffer.from("1234"))), 0xcbf43926);
  }
});

test("reports come back oldest first, under increasing sequence numbers, and survive a reopen", (t) => {
  const dir = tempDir(t);
  const spool = Spool.open({ dir, maxBytes: 2 ** 20 });
  const seqs = [1, 2, 3].map((i) => spool.append(batch(i * 1000)).sequence);
  t.deepEqual(seqs, [1, 2, 3]);
  t.is(spool.size, 3);
  t.deepEqual(spool.peek(), { sequence: 1, batch: batch(1000) });
  t.true(spool.remove(1));
  t.false(spool.remove(1), "removing what is no longer the oldest does nothing");
  const streamId = spool.streamId;
  spool.close();
  const again = Spool.open({ dir, maxBytes: 2 ** 20 });
  t.is(again.streamId, streamId, "the stream identity is kept with the spool");
  t.is(again.size, 2);
  t.is(again.append(batch(4000)).sequence, 4, "numbers go on past what is on disk");
  t.deepEqual(drain(again), [2000, 3000, 4000]);
  again.close();
  // Everything acknowledged, segments deleted: the numbers still never repeat.
  const third = Spool.open({ dir, maxBytes: 2 ** 20 });
  t.is(third.size, 0);
  t.deepEqual(segments(dir), []);
  t.is(third.append(batch(5000)).sequence, 5);
  third.close();
});

test("a torn record at the end of the newest segment is cut off on open; the rest is kept", (t) => {
  const dir = tempDir(t);
  const spool = Spool.open({ dir, maxBytes: 2 ** 20 });
  for (let i = 1; i <= 3; i++) spool.append(batch(i * 1000));
  spool.close();
  const [file] = segments(dir);
  const whole = path.join(dir, file!);
  const size = statSync(whole).size;
  // A crash in the middle of the 4th append: half a record.
  const fourth = encodeRecord(4, Buffer.from(JSON.stringify(batch(4000))));
  appendFileSync(whole, fourth.subarray(0, fourth.length - 7));
  const notices: string[] = [];
  const again = Spool.open({ dir, maxBytes: 2 ** 20, notice: (m) => notices.push(m) });
  t.is(again.size, 3);
  t.regex(notices.join("\n"), /torn record/);
  t.is(statSync(whole).size, size, "the torn bytes are gone from the file");
  t.is(again.append(batch(4000)).sequence, 4, "the torn record's number is free: it was never sent");
  t.deepEqual(drain(again), [1000, 2000, 3000, 4000]);
  again.close();
});

test("a record whose bytes were changed fails its CRC and ends what is read", (t) => {
  const dir = tempDir(t);
  const spool = Spool.open({ dir, maxBytes: 2 ** 20 });
  for (let i = 1; i <= 3; i++) spool.append(batch(i * 1000));
  spool.close();
  const file = path.join(dir, segments(dir)[0]!);
  const bytes = readFileSync(file);
  const { records } = scanRecords(bytes);
  const at = records[2]!.offset + 20;
  bytes[at] = bytes[at]! ^ 0xff; // flip a byte of the third record's payload
  writeFileSync(file, bytes);
  const again = Spool.open({ dir, maxBytes: 2 ** 20, notice: () => {} });
  t.deepEqual(drain(again), [1000, 2000]);
  again.close();
});

test("past max bytes the oldest reports are dropped and counted; the newest is always kept", (t) => {
  const dir = tempDir(t);
  const one = encodeRecord(1, Buffer.from(JSON.stringify(batch(1000, 500)))).length;
  const spool = Spool.open({ dir, maxBytes: one * 5 + 10, segmentBytes: one * 2 });
  let dropped = 0;
  for (let i = 1; i <= 12; i++) dropped += spool.append(batch(i * 1000, 500)).dropped;
  t.is(spool.size, 5);
  t.is(dropped, 7);
  t.is(spool.dropped, 7);
  t.true(spool.bytes <= one * 5 + 10);
  // Segments wholly dropped are deleted: on disk, the bound plus at most one segment.
  const onDisk = segments(dir).reduce((sum, n) => sum + statSync(path.join(dir, n)).size, 0);
  t.true(onDisk <= one * 5 + 10 + one * 2, `${onDisk} bytes on disk`);
  spool.close();
  const again = Spool.open({ dir, maxBytes: one * 5 + 10 });
  t.deepEqual(drain(again), [8000, 9000, 10000, 11000, 12000], "oldest dropped first; the survivors are read back");
  again.close();
  // A single report larger than the bound is still kept (dropping it would lose it for nothing).
  const tiny = Spool.open({ dir: path.join(dir, "tiny"), maxBytes: 10 });
  tiny.append(batch(1, 100));
  t.is(tiny.size, 1);
  tiny.append(batch(2, 100));
  t.is(tiny.size, 1);
  t.is(tiny.peek()!.batch.timestampMs, 2);
  tiny.close();
});

test("max reports bounds the count too; a reopen with a smaller bound drops the oldest", (t) => {
  const dir = tempDir(t);
  const spool = Spool.open({ dir, maxBytes: 2 ** 20, maxReports: 4 });
  for (let i = 1; i <= 6; i++) spool.append(batch(i * 1000));
  t.is(spool.size, 4);
  spool.close();
  const again = Spool.open({ dir, maxBytes: 2 ** 20, maxReports: 2 });
  t.is(again.dropped, 2);
  t.deepEqual(drain(again), [5000, 6000]);
  again.close();
});

test("a lost acked file costs a resend of acknowledged reports, never a repeated sequence number", (t) => {
  const dir = tempDir(t);
  const spool = Spool.open({ dir, maxBytes: 2 ** 20 });
  for (let i = 1; i <= 3; i++) spool.append(batch(i * 1000));
  spool.remove(1);
  spool.close();
  rmSync(path.join(dir, "acked"));
  const again = Spool.open({ dir, maxBytes: 2 ** 20 });
  t.is(again.peek()!.sequence, 1, "sent again; the server knows it by (stream, sequence)");
  t.is(again.append(batch(4000)).sequence, 4);
  again.close();
  truncateSync(path.join(dir, "stream-id"), 0);
  const renewed = Spool.open({ dir, maxBytes: 2 ** 20 });
  t.regex(renewed.streamId, /^[A-Za-z0-9_-]{16}$/, "an unreadable stream id is replaced by a new one");
  renewed.close();
});
