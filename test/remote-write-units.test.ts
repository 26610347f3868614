import { existsSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { toSeriesText } from "../common/series-text.ts";
import { ConfigError, buildServerConfig } from "../server/config/load.ts";
import { preflight } from "../server/config/preflight.ts";
import { createLogger } from "../server/log.ts";
import { backoffMs, classifyStatus, retryAfterMs } from "../server/remote-write/backoff.ts";
import { decodeReport, encodeReport, pointCount } from "../server/remote-write/entry-codec.ts";
import { labelName, metricName, seriesLabels, type LabelRules } from "../server/remote-write/labels.ts";
import { httpPoster } from "../server/remote-write/post.ts";
import { RemoteWriteQueue } from "../server/remote-write/queue.ts";
import { RemoteSender } from "../server/remote-write/sender.ts";
import { decodeWriteRequest, encodeWriteRequest, toRequests } from "../server/remote-write/write-request.ts";
import { remoteWriteSchema } from "../server/remote-write/config-schema.ts";
import { ProtoClient, makeBatch } from "./helpers/proto-client.ts";
import { adminHeaders, startTestServer } from "./helpers/server.ts";

const RULES: LabelRules = { instanceLabel: "instance", agentIdLabel: true, metricPrefix: "", externalLabels: {} };

function block(series: [string, Record<string, string>][], timestamps: number[], values: number[]) {
  return { series: toSeriesText(series), timestamps: Float64Array.from(timestamps), values: Float64Array.from(values) };
}

// ---- names and labels ----

test("metric names: dots and invalid characters become _, a leading digit gets one before it", (t) => {
  t.is(metricName("cpu.usage"), "cpu_usage");
  t.is(metricName("disk.used-percent/%"), "disk_used_percent__");
  t.is(metricName("certificate.days_left"), "certificate_days_left");
  t.is(metricName("5xx.rate"), "_5xx_rate");
  t.is(metricName("cpu.usage", "tsmon_"), "tsmon_cpu_usage");
  t.is(metricName("ns:rule.x"), "ns:rule_x", "colons are valid in metric names");
});

test("label names: invalid characters become _, reserved and digit-led ones get label_", (t) => {
  t.is(labelName("mount.point"), "mount_point");
  t.is(labelName("__secret"), "label___secret");
  t.is(labelName("0day"), "label_0day");
  t.is(labelName(""), "label_");
});

test("series labels: __name__, instance and agent_id from the agent, sample labels kept, sorted", (t) => {
  t.deepEqual(seriesLabels("web-01", "disk.used_percent", { mount: "/", "fs.type": "ext4" }, RULES), [
    { name: "__name__", value: "disk_used_percent" },
    { name: "agent_id", value: "web-01" },
    { name: "fs_type", value: "ext4" },
    { name: "instance", value: "web-01" },
    { name: "mount", value: "/" },
  ]);
  // A sample label cannot overwrite the agent's identity; external labels yield to the sample's own.
  const rules: LabelRules = { instanceLabel: "host", agentIdLabel: false, metricPrefix: "tsmon_", externalLabels: { region: "eu", dc: "a" } };
  t.deepEqual(seriesLabels("db-01", "cpu.usage", { host: "spoofed", dc: "b" }, rules), [
    { name: "__name__", value: "tsmon_cpu_usage" },
    { name: "dc", value: "b" },
    { name: "host", value: "db-01" },
    { name: "label_host", value: "spoofed" },
    { name: "region", value: "eu" },
  ]);
});

// ---- batching and the wire format ----

test("batching: requests of at most batch_max_samples, series grouped, samples in time order", (t) => {
  const reports = [
    { agentId: "a", samples: block([["cpu.usage", {}], ["mem.used", {}]], [2000, 2000], [1, 2]) },
    { agentId: "a", samples: block([["cpu.usage", {}], ["mem.used", {}]], [1000, 1000], [3, 4]) },
    { agentId: "b", samples: block([["cpu.usage", {}]], [1500], [5]) },
  ];
  const all = toRequests(reports, RULES, 100);
  t.is(all.length, 1);
  t.deepEqual(all[0]!.map((s) => [s.labels.find((l) => l.name === "instance")!.value, s.labels[0]!.value, s.samples.map((x) => x.timestamp)]), [
    ["a", "cpu_usage", [1000, 2000]], ["a", "mem_used", [1000, 2000]], ["b", "cpu_usage", [1500]],
  ]);
  const split = toRequests(reports, RULES, 2);
  t.deepEqual(split.map((r) => r.reduce((n, s) => n + s.samples.length, 0)), [2, 2, 1]);
  t.deepEqual(toRequests([], RULES, 10), []);
});

test("a request body is a snappy-compressed WriteRequest that protobufjs decodes back to the same series", (t) => {
  const label = "ü".repeat(100); // a length past one varint byte
  const [request] = toRequests([
    { agentId: "a", samples: block([["cpu.usage", { core: "0" }], ["disk.used", { mount: label }], ["x", {}]], [1_700_000_000_123, 1, 2 ** 53 - 1], [0.5, -3, 0]) },
    { agentId: "b", samples: block([["cpu.usage", {}]], [1_700_000_010_000], [NaN]) },
  ], RULES, 10);
  const decoded = decodeWriteRequest(encodeWriteRequest(request!));
  const plain = (series: typeof request) => series!.map(({ labels, samples }) => ({ labels, samples }));
  t.deepEqual(decoded.slice(0, 3), plain(request).slice(0, 3));
  t.is(decoded[0]!.samples[0]!.timestamp, 1_700_000_000_123, "int64 milliseconds survive");
  t.is(decoded[2]!.samples[0]!.timestamp, 2 ** 53 - 1);
  t.true(Number.isNaN(decoded[3]!.samples[0]!.value));
  // Series without pre-encoded labels (encodeWriteRequest's other callers) encode the same.
  t.deepEqual(encodeWriteRequest(plain(request)), encodeWriteRequest(request!));
});

test("a queued report round-trips through its bytes; the point count is read from the header", (t) => {
  const samples = block([["cpu.usage", {}], ["net.rx", { iface: "eth0" }]], [1, 2], [Math.PI, NaN]);
  const bytes = encodeReport("agent-ü", samples);
  t.is(pointCount(bytes), 2);
  const back = decodeReport(bytes);
  t.is(back.agentId, "agent-ü");
  t.is(back.samples.series, samples.series);
  t.deepEqual([...back.samples.timestamps], [1, 2]);
  t.is(back.samples.values[0], Math.PI);
  t.true(Number.isNaN(back.samples.values[1]));
});

// ---- retries ----

test("answers: 2xx sent; 5xx, 429, 408 retried; other 4xx dropped", (t) => {
  t.is(classifyStatus(204, "").type, "sent");
  t.deepEqual(classifyStatus(503, "busy"), { type: "retry", reason: "server_error", detail: "HTTP 503: busy" });
  t.is(classifyStatus(429, "").type, "retry");
  t.is(classifyStatus(408, "").type, "retry");
  t.deepEqual(classifyStatus(400, "out of order sample"), { type: "drop", reason: "rejected", detail: "HTTP 400: out of order sample" });
  t.is(classifyStatus(401, "").type, "drop");
});

test("backoff doubles from the minimum up to the maximum, jitter only shortens it", (t) => {
  const policy = { minMs: 500, maxMs: 30_000 };
  t.deepEqual([1, 2, 3, 4, 7, 8, 50].map((a) => backoffMs(a, policy, 0)), [500, 1000, 2000, 4000, 30_000, 30_000, 30_000]);
  t.is(backoffMs(2, policy, 0.999), 800);
  t.is(retryAfterMs("5", 0, 60_000), 5000);
  t.is(retryAfterMs("9999", 0, 60_000), 60_000);
  t.is(retryAfterMs(new Date(10_000).toUTCString(), 0, 60_000), 10_000);
  t.is(retryAfterMs("soon", 0, 60_000), undefined);
  t.is(retryAfterMs(undefined, 0, 60_000), undefined);
});

// ---- the durable queue (real LMDB) ----

test("queue: offsets are bytes, cursors move by compare-and-set, bound drops the oldest, trim deletes what all passed", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-rwq-"));
  const queue = new RemoteWriteQueue(dir);
  try {
    const one = block([["cpu.usage", {}]], [1], [1]);
    const size = encodeReport("a", one).length;
    t.is(await queue.ensureCursor("vm"), 0);
    t.is(await queue.ensureCursor("prom"), 0);
    for (let i = 0; i < 10; i++) await queue.append("a", one);
    t.is(queue.head(), 10 * size);
    t.is(queue.backlog("vm"), 10 * size);

    const read = queue.read(0, 3);
    t.is(read.reports.length, 3);
    t.is(read.next, 3 * size);
    t.is(queue.read(0, 0).reports.length, 1, "at least one report, however small the batch");
    t.true(await queue.advance("vm", 0, read.next, ["vm", "prom"]));
    t.false(await queue.advance("vm", 0, read.next, ["vm", "prom"]), "a stale holder cannot move the cursor back");
    t.is(queue.tail(), 0, "prom has still to send the first reports");

    t.is(await queue.trim(["vm"]), 3, "a receiver no longer configured holds nothing back");
    t.is(queue.cursor("prom"), undefined);
    t.is(await queue.ensureCursor("new"), 3 * size, "a new receiver starts at the oldest report kept");

    t.deepEqual(await queue.bound("vm", 4 * size), { droppedPoints: 3, droppedBytes: 3 * size });
    t.is(queue.backlog("vm"), 4 * size);
    t.deepEqual(await queue.bound("vm", 4 * size), { droppedPoints: 0, droppedBytes: 0 });
  } finally {
    await queue.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- the sender against a real HTTP receiver ----

test("sender: retries 5xx and network errors, drops a 4xx batch (counted), resumes from its cursor", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-rws-"));
  const queue = new RemoteWriteQueue(dir);
  const answers = [503, 400, 204];
  const received: { headers: http.IncomingHttpHeaders; samples: number }[] = [];
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const status = answers.shift() ?? 204;
      if (status === 204) received.push({ headers: req.headers, samples: decodeWriteRequest(Buffer.concat(chunks)).reduce((n, s) => n + s.samples.length, 0) });
      res.writeHead(status).end(status === 400 ? "out of order sample" : "");
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/api/v1/write`;
  const poster = httpPoster(remoteWriteSchema.parse({ url, bearer_token: "s3cret" }));
  const events = { sent: 0, dropped: 0, failures: [] as string[] };
  const start = () => new RemoteSender({
    name: "r", queue, post: poster.post, rules: RULES, batchMaxSamples: 2, queueMaxBytes: 1 << 20,
    backoff: { minMs: 5, maxMs: 20 }, holdsLease: () => true, allNames: ["r"], pollMs: 10, log: createLogger("silent"),
    events: { sent: (n) => (events.sent += n), dropped: (n) => (events.dropped += n), failed: (r) => events.failures.push(r) },
  });
  let sender: RemoteSender | undefined;
  try {
    await queue.ensureCursor("r");
    await queue.append("a", block([["m", {}], ["m", { x: "1" }]], [1, 1], [1, 2]));
    await queue.append("a", block([["m", {}], ["m", { x: "1" }]], [2, 2], [3, 4]));
    sender = start();
    await waitFor(() => events.sent + events.dropped === 4);
    t.deepEqual(events.failures, ["server_error", "rejected"]);
    t.deepEqual([events.sent, events.dropped], [2, 2]);
    t.is(received[0]!.headers["content-encoding"], "snappy");
    t.is(received[0]!.headers["content-type"], "application/x-protobuf");
    t.is(received[0]!.headers["x-prometheus-remote-write-version"], "0.1.0");
    t.is(received[0]!.headers.authorization, "Bearer s3cret");
    await waitFor(() => queue.backlog("r") === 0);
    await sender.stop();

    // A new sender (a restart) starts where the last one stopped: nothing is sent twice.
    await queue.append("a", block([["m", {}]], [3], [5]));
    sender = start();
    await waitFor(() => events.sent === 3);
    t.deepEqual(received.map((r) => r.samples), [2, 1]);
  } finally {
    await sender?.stop();
    poster.close();
    await new Promise((r) => receiver.close(r));
    await queue.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("sender: past queue_max_bytes during an outage the oldest reports are dropped (counted); the newest arrive once it ends", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-rwb-"));
  const queue = new RemoteWriteQueue(dir);
  let down = true;
  let lease = true;
  const arrived: number[] = [];
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      if (down) return void res.writeHead(503).end("down");
      for (const s of decodeWriteRequest(Buffer.concat(chunks))) arrived.push(...s.samples.map((x) => x.timestamp));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const poster = httpPoster(remoteWriteSchema.parse({ url: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/w` }));
  const events = { sent: 0, full: 0, failures: 0 };
  const one = (ts: number) => block([["m", {}]], [ts], [ts]);
  const size = encodeReport("a", one(0)).length;
  const sender = new RemoteSender({
    name: "r", queue, post: poster.post, rules: RULES, batchMaxSamples: 4, queueMaxBytes: 10 * size,
    backoff: { minMs: 5, maxMs: 20 }, holdsLease: () => lease, allNames: ["r"], pollMs: 10, log: createLogger("silent"),
    events: { sent: (n) => (events.sent += n), dropped: (n, reason) => { if (reason === "queue_full") events.full += n; }, failed: () => (events.failures += 1) },
  });
  try {
    await queue.ensureCursor("r");
    for (let ts = 1; ts <= 30; ts++) await queue.append("a", one(ts));
    await waitFor(() => events.full === 20 && events.failures >= 3);
    t.is(queue.backlog("r"), 10 * size, "the queue holds queue_max_bytes, the newest reports");
    // The lease moves away during the outage: the batch is left for the next holder.
    lease = false;
    await new Promise((r) => setTimeout(r, 100));
    down = false;
    await new Promise((r) => setTimeout(r, 100));
    t.deepEqual(arrived, [], "no process without the lease sends");
    lease = true;
    await waitFor(() => events.sent === 10 && queue.backlog("r") === 0);
    t.deepEqual(arrived.sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => 21 + i));
  } finally {
    await sender.stop();
    poster.close();
    await new Promise((r) => receiver.close(r));
    await queue.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function waitFor(done: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ---- bad configuration ----

test("bad [[remote_write]] tables are refused with their paths", (t) => {
  const err = t.throws(() => buildServerConfig({
    remote_write: [
      { url: "not a url" },
      { url: "ftp://x/y" },
      { url: "http://a/w", queue_max_bytes: -1, batch_max_samples: 0, timeout_secs: -5 },
      { url: "http://b/w", bearer_token: "t", basic_auth: { username: "u", password: "p" }, tls: { cert_file: "/c.pem" } },
      { url: "http://c/w", instance_label: "__bad", external_labels: { "bad-name": "x" }, unknown: 1 },
    ],
  }), { instanceOf: ConfigError }) as ConfigError;
  const expected = [
    /^remote_write\.0\.url: expected an http:\/\/ or https:\/\/ URL/,
    /^remote_write\.1\.url: expected an http/,
    /^remote_write\.2\.queue_max_bytes: .*1 MiB/,
    /^remote_write\.2\.batch_max_samples: /,
    /^remote_write\.2\.timeout_secs: /,
    /^remote_write\.3\.basic_auth: give bearer_token or basic_auth, not both/,
    /^remote_write\.3\.tls: cert_file and key_file go together/,
    /^remote_write\.4\.instance_label: .*reserved/,
    /^remote_write\.4\.external_labels\.bad-name: 'bad-name': expected a Prometheus label name/,
    /^remote_write\.4: .*unknown/i,
  ];
  for (const re of expected) t.true(err.problems.some((p) => re.test(p)), `${re} in:\n${err.problems.join("\n")}`);
  // Two receivers with one name would share a queue cursor (checked once the tables themselves are valid).
  const twice = t.throws(() => buildServerConfig({ remote_write: [{ url: "http://d/w" }, { url: "http://e/w", name: "d/w" }, { url: "http://d/w" }] }), { instanceOf: ConfigError }) as ConfigError;
  t.deepEqual(twice.problems, [1, 2].map((i) => `remote_write.${i}.name: 'd/w' is used by remote_write 0 too: give each receiver its own name (it names its queue)`));
});

test("a remote_write TLS file that cannot be read stops start-up with its path", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-rwc-"));
  try {
    const config = buildServerConfig({ data_dir: dir, bind_address: "127.0.0.1", remote_write: [{ url: "https://vm.example/api/v1/write", tls: { ca_file: "/nonexistent/ca.pem" } }] });
    const err = await t.throwsAsync(preflight(config), { instanceOf: ConfigError }) as ConfigError;
    t.regex(err.problems.join("\n"), /remote_write\.0\.tls\.ca_file: cannot read \/nonexistent\/ca\.pem/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("defaults: 256 MiB queue, 5,000 samples a request, agent id as instance and agent_id", (t) => {
  const [rw] = buildServerConfig({ remote_write: [{ url: "http://127.0.0.1:8428/api/v1/write" }] }).remote_write;
  t.like(rw, { queue_max_bytes: 256 * 1024 * 1024, batch_max_samples: 5000, timeout_secs: 30, instance_label: "instance", agent_id_label: true, metric_prefix: "" });
  t.deepEqual(buildServerConfig({}).remote_write, []);
});

test("without [[remote_write]] ingest queues nothing: no queue file, no remote_write metrics", async (t) => {
  const server = await startTestServer();
  const client = new ProtoClient(server.grpc);
  try {
    await client.report(makeBatch("no-rw-01", Date.now() - 1000, 3));
    t.false(existsSync(path.join(server.dataDir, "remote-write")));
    const text = await (await fetch(`${server.http}/metrics`, { headers: await adminHeaders(`${server.http}/metrics`) })).text();
    t.false(text.includes("tsmon_remote_write_"));
    t.true(text.includes("tsmon_points_ingested_total 3"));
  } finally {
    client.close();
    await server.stop();
  }
});
