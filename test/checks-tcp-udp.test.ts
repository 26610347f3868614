import test from "ava";
import { spawn } from "node:child_process";
import dgram from "node:dgram";
import net from "node:net";
import { reasonOf, type CheckResult } from "../agent/checks/check.ts";
import { createCheck, validateCheckTables } from "../agent/checks/definitions.ts";
import { refusedPort } from "./helpers/test-pki.ts";

/** Validates one [[checks]] table as the config would, and probes it once with its timeout. */
async function probeOnce(table: Record<string, unknown>): Promise<CheckResult> {
  const { checks, problems } = validateCheckTables([table]);
  if (problems.length) throw new Error(problems.join("; "));
  const def = checks[0]!;
  return createCheck(def).probe({ timeoutMs: def.timeout_ms, signal: AbortSignal.timeout(def.timeout_ms) });
}

async function listen(onSocket: (s: net.Socket) => void = () => undefined): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => { sockets.add(s); s.on("error", () => undefined); onSocket(s); });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

async function udpEcho(type: "udp4" | "udp6", host: string): Promise<{ port: number; close(): Promise<void> }> {
  const socket = dgram.createSocket(type);
  socket.on("message", (msg, rinfo) => socket.send(Buffer.concat([Buffer.from("echo: "), msg]), rinfo.port, rinfo.address));
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  return { port: socket.address().port, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}

test("tcp: a listener is up, with its connect time", async (t) => {
  const server = await listen();
  try {
    const result = await probeOnce({ name: "db", type: "tcp", target: "127.0.0.1", port: server.port });
    t.true(result.up);
    t.true(result.figures.rtt_ms! >= 0 && result.figures.rtt_ms! < 1000);
  } finally {
    await server.close();
  }
});

test("tcp: a closed port is down as refused", async (t) => {
  const result = await probeOnce({ name: "db", type: "tcp", target: "127.0.0.1", port: await refusedPort() });
  t.false(result.up);
  t.is(result.reason?.code, "refused");
  t.regex(result.reason!.message, /ECONNREFUSED/);
});

test("reasons: refused, unreachable, timeout, dns failure and tls are told apart", (t) => {
  // A failed lookup is tested through the mapping: resolving a made-up name would ask the
  // system's DNS servers, and these tests stay on loopback.
  const err = (code: string) => Object.assign(new Error(`getaddrinfo ${code} db.example`), { code });
  t.is(reasonOf(err("ENOTFOUND"), "connect to db.example:5432").code, "dns");
  t.is(reasonOf(err("EAI_AGAIN"), "x").code, "dns");
  t.is(reasonOf(err("ECONNREFUSED"), "x").code, "refused");
  t.is(reasonOf(err("EHOSTUNREACH"), "x").code, "unreachable");
  t.is(reasonOf(err("ABORT_ERR"), "x").code, "timeout");
  t.is(reasonOf(err("CERT_HAS_EXPIRED"), "x").code, "tls");
  t.is(reasonOf(err("EWHATEVER"), "x").code, "error");
  t.regex(reasonOf(err("ENOTFOUND"), "connect to db.example:5432").message, /^connect to db\.example:5432: name did not resolve/);
});

test("tcp: send/expect: the expected reply (substring or /regex/) is up; silence past timeout_ms is down, saying so", async (t) => {
  const server = await listen((s) => s.on("data", (d) => { if (String(d) === "PING\r\n") s.write("+PONG\r\n"); }));
  try {
    t.true((await probeOnce({ name: "redis", type: "tcp", target: "127.0.0.1", port: server.port, send: "PING\r\n", expect: "+PONG" })).up);
    t.true((await probeOnce({ name: "redis", type: "tcp", target: "127.0.0.1", port: server.port, send: "PING\r\n", expect: "/^\\+pong/i" })).up);
    const started = Date.now();
    const silent = await probeOnce({ name: "redis", type: "tcp", target: "127.0.0.1", port: server.port, send: "HELLO\r\n", expect: "+PONG", timeout_ms: 300 });
    t.false(silent.up);
    t.is(silent.reason?.code, "expect");
    t.regex(silent.reason!.message, /expected "\+PONG" within 300 ms, got nothing/);
    t.true(silent.figures.rtt_ms !== undefined, "the connect time is still reported");
    t.true(Date.now() - started < 2000);
  } finally {
    await server.close();
  }
});

test("tcp: a connect that never completes is down as a timeout", async (t) => {
  // A listener that never accepts, with a backlog of 0: once its queue holds what the
  // kernel allows, further SYNs on loopback are dropped and the next connect hangs. Node
  // accepts every connection itself, so the listener is a small python3 process.
  const listener = spawn("python3", ["-c", NEVER_ACCEPTS], { stdio: ["ignore", "pipe", "inherit"] });
  const fillers: net.Socket[] = [];
  try {
    const port = Number(await new Promise<string>((resolve) => listener.stdout.once("data", (d) => resolve(String(d).trim()))));
    for (let i = 0; i < 4; i++) {
      const s = net.connect(port, "127.0.0.1");
      s.on("error", () => undefined);
      fillers.push(s);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    const result = await probeOnce({ name: "full", type: "tcp", target: "127.0.0.1", port, timeout_ms: 500 });
    t.false(result.up);
    t.is(result.reason?.code, "timeout");
    t.regex(result.reason!.message, /no answer within 500 ms/);
  } finally {
    for (const s of fillers) s.destroy();
    listener.kill();
  }
});

const NEVER_ACCEPTS = `
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(0)
print(s.getsockname()[1], flush=True)
time.sleep(60)
`;

test("udp: an echo server is up with its reply time (IPv4 and IPv6), and expect matches the reply", async (t) => {
  const v4 = await udpEcho("udp4", "127.0.0.1");
  const v6 = await udpEcho("udp6", "::1");
  try {
    const r4 = await probeOnce({ name: "echo", type: "udp", target: "127.0.0.1", port: v4.port, send: "hi", expect: "echo: hi" });
    t.true(r4.up);
    t.true(r4.figures.rtt_ms! >= 0);
    t.true((await probeOnce({ name: "echo6", type: "udp", target: "::1", port: v6.port, send: "hi" })).up);
    const wrong = await probeOnce({ name: "echo", type: "udp", target: "127.0.0.1", port: v4.port, send: "hi", expect: "/^pong/" });
    t.is(wrong.reason?.code, "expect");
  } finally {
    await v4.close();
    await v6.close();
  }
});

test("udp: a closed port is down as refused (ICMP port unreachable), well before the timeout", async (t) => {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  const started = Date.now();
  const result = await probeOnce({ name: "closed", type: "udp", target: "127.0.0.1", port, send: "hi", timeout_ms: 3000 });
  t.false(result.up);
  t.is(result.reason?.code, "refused");
  t.true(Date.now() - started < 2000);
});
