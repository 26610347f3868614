import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import tls from "node:tls";

/*
 * Certificates made at test time with the openssl CLI (Node cannot sign X.509): a root CA,
 * an intermediate, and leaves with any validity window (`openssl ca -startdate/-enddate`),
 * plus TLS servers on loopback that present them.
 */

export interface KeyPair { key: string; cert: string }
export interface LeafOptions { sans?: string[]; notBefore?: Date; notAfter?: Date; rsa?: boolean; issuer?: "root" | "intermediate" }

const DAY_MS = 86_400_000;

const CA_CONFIG = `
[ ca ]
default_ca = test_ca
[ test_ca ]
database = index.txt
new_certs_dir = issued
serial = serial
default_md = sha256
policy = any_name
unique_subject = no
copy_extensions = copy
x509_extensions = leaf
[ any_name ]
commonName = supplied
organizationName = optional
[ leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
[ intermediate ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
`;

const stamp = (d: Date) => d.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z";

export class TestPki {
  readonly dir = mkdtempSync(path.join(tmpdir(), "tsmon-pki-"));
  readonly root: KeyPair;
  readonly intermediate: KeyPair;
  /** The root CA as a file, for `[cert_check] ca_file`. */
  readonly caFile: string;
  private n = 0;

  constructor() {
    mkdirSync(path.join(this.dir, "issued"));
    writeFileSync(path.join(this.dir, "index.txt"), "");
    writeFileSync(path.join(this.dir, "serial"), "1000\n");
    writeFileSync(path.join(this.dir, "ca.cnf"), CA_CONFIG);
    this.root = this.selfSigned("tsmon Test Root CA", [], { ca: true, org: "tsmon test" });
    this.caFile = path.join(this.dir, "root.pem");
    writeFileSync(this.caFile, this.root.cert);
    this.intermediate = this.sign("tsmon Test Intermediate", "root", { extensions: "intermediate", org: "tsmon test" });
  }

  /** A server certificate for `cn` (SANs default to `DNS:<cn>`), issued by the intermediate unless told. */
  leaf(cn: string, options: LeafOptions = {}): KeyPair {
    return this.sign(cn, options.issuer ?? "intermediate", {
      sans: options.sans ?? [`DNS:${cn}`], notBefore: options.notBefore, notAfter: options.notAfter, rsa: options.rsa,
    });
  }

  selfSigned(cn: string, sans: string[], options: { ca?: boolean; org?: string } = {}): KeyPair {
    const base = this.next();
    const subj = options.org ? `/O=${options.org}/CN=${cn}` : `/CN=${cn}`;
    const ext = options.ca
      ? ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]
      : sans.length ? ["-addext", `subjectAltName=${sans.join(",")}`] : [];
    this.openssl(["req", "-x509", ...ecKey(), "-nodes", "-keyout", `${base}.key`, "-out", `${base}.crt`, "-days", "3650", "-subj", subj, ...ext]);
    return this.read(base);
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private sign(cn: string, issuer: "root" | "intermediate", o: { sans?: string[]; notBefore?: Date; notAfter?: Date; rsa?: boolean; extensions?: string; org?: string }): KeyPair {
    const base = this.next();
    const signer = issuer === "root" ? this.root : this.intermediate;
    writeFileSync(path.join(this.dir, `${base}.signer.key`), signer.key);
    writeFileSync(path.join(this.dir, `${base}.signer.crt`), signer.cert);
    const subj = o.org ? `/O=${o.org}/CN=${cn}` : `/CN=${cn}`;
    const sanExt = o.sans?.length ? ["-addext", `subjectAltName=${o.sans.join(",")}`] : [];
    this.openssl(["req", "-new", ...(o.rsa ? ["-newkey", "rsa:2048"] : ecKey()), "-nodes", "-keyout", `${base}.key`, "-out", `${base}.csr`, "-subj", subj, ...sanExt]);
    const now = Date.now();
    this.openssl([
      "ca", "-batch", "-notext", "-config", "ca.cnf", "-cert", `${base}.signer.crt`, "-keyfile", `${base}.signer.key`,
      "-in", `${base}.csr`, "-out", `${base}.crt`, "-extensions", o.extensions ?? "leaf",
      "-startdate", stamp(o.notBefore ?? new Date(now - DAY_MS)), "-enddate", stamp(o.notAfter ?? new Date(now + 90 * DAY_MS)),
    ]);
    return this.read(base);
  }

  private next(): string {
    return `c${++this.n}`;
  }

  private read(base: string): KeyPair {
    return { key: readFileSync(path.join(this.dir, `${base}.key`), "utf8"), cert: readFileSync(path.join(this.dir, `${base}.crt`), "utf8") };
  }

  private openssl(args: string[]): void {
    execFileSync("openssl", args, { cwd: this.dir, stdio: "pipe" });
  }
}

function ecKey(): string[] {
  return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
}

export interface TestTlsServer {
  port: number;
  /** Connections open now, and the most open at once. */
  open: number;
  peak: number;
  accepted: number;
  close(): Promise<void>;
}

/**
 * A TLS server on loopback presenting `pair` (plus `chain`, e.g. the intermediate).
 * `holdMs` keeps every ClientHello waiting that long; `peak` counts the ClientHellos held at
 * once, which only connections the checker has opened at the same time can reach.
 */
export async function startTlsServer(pair: KeyPair, options: { chain?: string; holdMs?: number } = {}): Promise<TestTlsServer> {
  const context = tls.createSecureContext({ key: pair.key, cert: pair.cert + (options.chain ?? "") });
  const state = { open: 0, peak: 0, accepted: 0 };
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({
    SNICallback: (_name, cb) => {
      if (!options.holdMs) return cb(null, context);
      state.open++;
      state.peak = Math.max(state.peak, state.open);
      setTimeout(() => { state.open--; cb(null, context); }, options.holdMs);
    },
  });
  server.on("connection", (s: net.Socket) => { state.accepted++; sockets.add(s); s.on("close", () => sockets.delete(s)); });
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get open() { return state.open; },
    get peak() { return state.peak; },
    get accepted() { return state.accepted; },
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

/** A TCP server that accepts and never says a word (a hung TLS peer). */
export async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => { sockets.add(s); s.on("close", () => sockets.delete(s)); s.on("error", () => undefined); });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

/** A loopback port with nothing listening (bound, then released). */
export async function refusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A resolver mapping test names (`*.test`) to loopback, for CertChecker / startServer. */
export function loopbackResolver(extra: Record<string, string[]> = {}): (host: string) => Promise<string[]> {
  return async (host) => {
    if (extra[host]) return extra[host]!;
    if (host.endsWith(".test")) return ["127.0.0.1"];
    throw new Error(`no A or AAAA record for ${host} (ENOTFOUND)`);
  };
}
