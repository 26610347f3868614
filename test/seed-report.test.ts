import test from "ava";
import { decodeSeedReport, parseTimestamp } from "../server/ingest/seed-report.ts";
import { SEED_METRIC_NAMES, tsmonMetricName } from "../server/ingest/seed-metric-names.ts";

const NOW = Date.parse("2026-11-23T10:00:00Z");

test("timestamps: epoch ms, ISO 8601 with Z, an offset, or none (UTC); absent is now; anything else names the field", (t) => {
  t.is(parseTimestamp(1_700_000_000_123, "timestamp", NOW), 1_700_000_000_123);
  t.is(parseTimestamp("2023-07-20T12:34:56Z", "timestamp", NOW), Date.UTC(2023, 6, 20, 12, 34, 56));
  t.is(parseTimestamp("2023-07-20T12:34:56.250Z", "timestamp", NOW), Date.UTC(2023, 6, 20, 12, 34, 56, 250));
  t.is(parseTimestamp("2023-07-20T14:34:56+02:00", "timestamp", NOW), Date.UTC(2023, 6, 20, 12, 34, 56));
  t.is(parseTimestamp("2023-07-20T12:34:56", "timestamp", NOW), Date.UTC(2023, 6, 20, 12, 34, 56), "no offset: UTC, whatever the server's zone");
  t.is(parseTimestamp("2023-07-20 12:34:56", "timestamp", NOW), Date.UTC(2023, 6, 20, 12, 34, 56));
  t.is(parseTimestamp(undefined, "timestamp", NOW), NOW);
  for (const bad of ["yesterday", "20/07/2023", "2023-13-45T99:99:99Z", ""]) t.throws(() => parseTimestamp(bad, "samples[3].timestamp", NOW), { message: /^samples\[3\]\.timestamp: / }, bad);
  for (const bad of [1.5, -1, 0, 2 ** 60]) t.throws(() => parseTimestamp(bad, "timestamp", NOW), { message: /^timestamp: must be a positive integer/ }, String(bad));
});

test("the name table maps the seeds' flat names; other names pass as they are", (t) => {
  t.like(SEED_METRIC_NAMES, { cpu_usage: "cpu.usage", ram_usage: "memory.used_percent", disk_usage: "disk.used_percent", inode_usage: "disk.inodes_used_percent", docker_sz: "docker.dir_bytes", gpu_usage: "gpu.usage", memory_used: "memory.used" });
  t.is(tsmonMetricName("my.metric"), "my.metric");
  t.is(tsmonMetricName("toString"), "toString", "not an inherited property");
});

test("a batch decodes to points with mapped names, per-sample timestamps and labels; field names follow the body", (t) => {
  const { batch, fields } = decodeSeedReport({
    agent_id: "web-01",
    samples: [
      { timestamp: 1_000, metrics: { cpu_usage: 1, ram_usage: 2 } },
      { timestamp: "1970-01-01T00:00:02Z", metrics: { docker_sz: 3 }, labels: { path: "/var/lib/docker" } },
    ],
  }, "batch", undefined, NOW);
  t.is(batch.agentId, "web-01");
  t.deepEqual(batch.points.map((p) => [p.metric, p.value, p.timestampMs, p.labels]), [
    ["cpu.usage", 1, 1_000, {}], ["memory.used_percent", 2, 1_000, {}], ["docker.dir_bytes", 3, 2_000, { path: "/var/lib/docker" }],
  ]);
  t.is(fields.points, "samples");
  t.is(fields.point(1, "value"), "samples[0].metrics.ram_usage");
  t.is(fields.point(2, "timestamp_ms"), "samples[1].timestamp");
  t.is(fields.point(2, "labels"), "samples[1].labels");
});

test("a flat sample takes the token's agent unless it names one; without either it is refused", (t) => {
  const flat = decodeSeedReport({ cpu_usage: 45.2, memory_used: 8192, timestamp: "2023-07-20T12:34:56Z" }, "flat", "web-02", NOW);
  t.is(flat.batch.agentId, "web-02");
  t.deepEqual(flat.batch.points.map((p) => [p.metric, p.value]), [["cpu.usage", 45.2], ["memory.used", 8192]]);
  t.is(flat.fields.point(1, "value"), "memory_used");
  t.is(flat.fields.point(0, "timestamp_ms"), "timestamp");
  t.is(decodeSeedReport({ agent_id: "db-01", load_1: 1 }, "flat", "web-02", NOW).batch.agentId, "db-01");
  t.throws(() => decodeSeedReport({ cpu_usage: 1 }, "flat", undefined, NOW), { message: /^agent_id: required unless the bearer token is an agent's/ });
  t.throws(() => decodeSeedReport({ cpu_usage: [1] }, "flat", "a", NOW), { message: /^cpu_usage: / });
  t.throws(() => decodeSeedReport({ samples: [{ metrics: { x: 1 } }, { metrics: null }] }, "batch", "a", NOW), { message: /^samples\[1\]\.metrics: / });
  t.throws(() => decodeSeedReport([], "batch", "a", NOW), { message: /^body: / });
});
