import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { startTestServer } from "./helpers/server.ts";

/*
 * Start-up that fails like the rest: each bad setting ends the server within seconds, exit
 * code 2, with the config error shape (field path, what is wrong, what to do) and no stack.
 */

const root = new URL("..", import.meta.url).pathname;

function runServer(configText: string): Promise<{ code: number | null; stderr: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), "tsmon-startup-"));
  const file = path.join(dir, "server.toml");
  writeFileSync(file, configText.replaceAll("$DIR", dir));
  writeFileSync(path.join(dir, "a-file"), "");
  return new Promise((resolve) => {
    // 60 s: a server that hangs (the /proc mkdir loop did) is killed and fails the test.
    execFile(process.execPath, ["--import=tsx", path.join(root, "server/main.ts"), file], { cwd: root, timeout: 60_000 }, (err, _stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true });
      resolve({ code: err ? (typeof err.code === "number" ? err.code : null) : 0, stderr });
    });
  });
}

const base = 'bind_address = "127.0.0.1"\ngrpc_port = 0\nhttp_port = 0\nlog_level = "silent"\n';
const cases: [string, string, RegExp][] = [
  ["a data_dir the kernel refuses (/proc)", `${base}data_dir = "/proc/tsmon-test"`, /data_dir: cannot create or write \/proc\/tsmon-test/],
  ["a data_dir under a regular file", `${base}data_dir = "$DIR/a-file/data"`, /data_dir: .*a-file\/data cannot be a directory: .*a-file is a file/],
  ["an unresolvable bind_address", `bind_address = "no-such-host.invalid"\ndata_dir = "$DIR/data"`, /bind_address: 'no-such-host.invalid' does not resolve/],
  ["missing TLS files", `${base}data_dir = "$DIR/data"\n[tls]\nenabled = true\ncert_file = "$DIR/none.pem"\nkey_file = "$DIR/none.key"`, /tls.cert_file: cannot read .*none.pem \(ENOENT\)[\s\S]*tls.key_file: cannot read/],
  ["an empty config file", "", /the file is empty/],
  ["1,000 ingest threads", `${base}data_dir = "$DIR/data"\n[actors]\ningest_threads = 1000`, /actors.ingest_threads: at most 64 threads/],
];

for (const [what, text, message] of cases) {
  test(`start-up refuses ${what}: exit 2, the field and the fix, no stack trace`, async (t) => {
    const { code, stderr } = await runServer(text);
    t.is(code, 2, stderr);
    t.regex(stderr, message);
    t.regex(stderr, /tsmon-server did not start: fix the configuration above/);
    t.notRegex(stderr, /\n\s+at /, "no stack trace");
  });
}

test("a port in use is one line naming the port and the field, exit 2", async (t) => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
  t.teardown(() => blocker.close());
  const port = (blocker.address() as net.AddressInfo).port;
  const { code, stderr } = await runServer(`bind_address = "127.0.0.1"\ngrpc_port = 0\nhttp_port = ${port}\nlog_level = "silent"\ndata_dir = "$DIR/data"`);
  t.is(code, 2, stderr);
  t.regex(stderr, new RegExp(`^tsmon-server did not start: http_port: port ${port} on 127.0.0.1 is in use by another process; stop it or choose another http_port \\(config: .*server.toml\\)\n$`),
    "one line, nothing before it (no first-admin banner: nothing was created)");
});

test("the data dir tsmon creates is 0700 and control.mdb, with its password and token hashes, 0600", async (t) => {
  const parent = mkdtempSync(path.join(tmpdir(), "tsmon-modes-"));
  t.teardown(() => rmSync(parent, { recursive: true, force: true }));
  const dataDir = path.join(parent, "new", "data");
  const server = await startTestServer({}, dataDir);
  await server.stop();
  t.is(statSync(dataDir).mode & 0o777, 0o700);
  t.is(statSync(path.join(dataDir, "control.mdb")).mode & 0o777, 0o600);
  t.is(statSync(path.join(dataDir, "control.mdb-lock")).mode & 0o777, 0o600);
});
