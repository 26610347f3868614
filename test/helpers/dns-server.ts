import dgram from "node:dgram";

/*
 * A tiny authoritative DNS server on loopback UDP for tests: A and TXT records from a
 * table, NXDOMAIN for other names, an empty answer for other types of a known name, and
 * silence for names listed in `silent` (to test timeouts). Enough of RFC 1035 for
 * node:dns to parse; no compression beyond the pointer to the question.
 */

export interface DnsZone {
  A?: Record<string, string[]>;
  TXT?: Record<string, string[]>;
  silent?: string[];
}

export interface TestDnsServer {
  /** `127.0.0.1:port`, for a check's `server`. */
  address: string;
  queries: number;
  close(): Promise<void>;
}

const TYPE = { A: 1, TXT: 16 } as const;

export async function startDnsServer(zone: DnsZone): Promise<TestDnsServer> {
  const socket = dgram.createSocket("udp4");
  const state = { queries: 0 };
  socket.on("message", (query, peer) => {
    state.queries++;
    const parsed = parseQuestion(query);
    if (!parsed || zone.silent?.includes(parsed.name)) return;
    const known = [zone.A, zone.TXT].some((table) => table?.[parsed.name]);
    const answers = answersFor(zone, parsed.name, parsed.type);
    socket.send(response(query, parsed.end, known ? 0 : 3, answers), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    get queries() { return state.queries; },
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

function parseQuestion(msg: Buffer): { name: string; type: number; end: number } | undefined {
  if (msg.length < 17) return undefined;
  const labels: string[] = [];
  let at = 12;
  while (at < msg.length && msg[at] !== 0) {
    const len = msg[at]!;
    labels.push(msg.toString("ascii", at + 1, at + 1 + len));
    at += 1 + len;
  }
  if (at + 5 > msg.length) return undefined;
  return { name: labels.join(".").toLowerCase(), type: msg.readUInt16BE(at + 1), end: at + 5 };
}

function answersFor(zone: DnsZone, name: string, type: number): Array<{ type: number; data: Buffer }> {
  if (type === TYPE.A) return (zone.A?.[name] ?? []).map((ip) => ({ type, data: Buffer.from(ip.split(".").map(Number)) }));
  if (type === TYPE.TXT) {
    return (zone.TXT?.[name] ?? []).map((text) => ({ type, data: Buffer.concat([Buffer.from([Buffer.byteLength(text)]), Buffer.from(text)]) }));
  }
  return [];
}

function response(query: Buffer, questionEnd: number, rcode: number, answers: Array<{ type: number; data: Buffer }>): Buffer {
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // the query's id
  header.writeUInt16BE(0x8400 | 0x0100 | rcode, 2); // response, authoritative, recursion desired echoed
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const records = answers.map(({ type, data }) => {
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    rr.writeUInt16BE(type, 2);
    rr.writeUInt16BE(1, 4); // class IN
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(data.length, 10);
    return Buffer.concat([rr, data]);
  });
  return Buffer.concat([header, query.subarray(12, questionEnd), ...records]);
}
