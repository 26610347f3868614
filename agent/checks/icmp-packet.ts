/*
 * ICMP (IPv4) packets as bytes: the echo request the agent sends, and what comes back on a
 * raw socket. Pure, so the parsing of every reply kind is tested without a network.
 */

export const ICMP_ECHO_REPLY = 0;
export const ICMP_UNREACHABLE = 3;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;

/** Bytes after the 8-byte header: small, as ping's default of 56 is. */
const PAYLOAD = Buffer.from("tsmon-icmp-probe-0123456789abcdef");

/** Bytes of an echo request: the 8-byte header and the payload. */
export const ECHO_REQUEST_BYTES = 8 + PAYLOAD.length;

/** An echo request with its checksum. */
export function echoRequest(identifier: number, sequence: number): Buffer {
  const packet = Buffer.alloc(ECHO_REQUEST_BYTES);
  PAYLOAD.copy(packet, 8);
  return writeEchoHeader(packet, identifier, sequence);
}

/** The sum of the 16-bit words of a request that do not change: type, code and payload. */
const FIXED_WORDS_SUM = wordSum(Buffer.concat([Buffer.from([ICMP_ECHO_REQUEST, 0, 0, 0, 0, 0, 0, 0]), PAYLOAD]));

/**
 * Writes the header of an echo request into `packet`, whose payload is in place already:
 * a sender reuses one buffer, and the checksum adds the two changing words to the sum of
 * the others (byte writes; copying the payload each time was the sender's main cost).
 */
export function writeEchoHeader(packet: Buffer, identifier: number, sequence: number): Buffer {
  packet[0] = ICMP_ECHO_REQUEST;
  packet[1] = 0;
  packet[4] = identifier >>> 8;
  packet[5] = identifier & 0xff;
  packet[6] = sequence >>> 8;
  packet[7] = sequence & 0xff;
  const sum = ~fold(FIXED_WORDS_SUM + identifier + sequence) & 0xffff;
  packet[2] = sum >>> 8;
  packet[3] = sum & 0xff;
  return packet;
}

/** The Internet checksum (RFC 1071) of `data` with its checksum field zero. */
export function checksum(data: Buffer): number {
  return ~fold(wordSum(data)) & 0xffff;
}

function wordSum(data: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < data.length; i += 2) sum += data.readUInt16BE(i);
  if (data.length % 2) sum += data[data.length - 1]! << 8;
  return sum;
}

/** Folds the carries of a one's-complement sum back into 16 bits. */
function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/**
 * What a received packet says about one of our echo requests: an echo reply, or an error
 * (time exceeded, unreachable) quoting the request's header. `identifier`/`sequence` are the
 * request's; `to` is the address the request was sent to.
 */
export interface IcmpAnswer {
  kind: "reply" | "time-exceeded" | "unreachable";
  identifier: number;
  sequence: number;
  to: string;
  /** The ICMP code (for unreachable: 0 net, 1 host, 3 port, 13 prohibited, …). */
  code: number;
}

/**
 * Parses a packet from a raw IPv4 ICMP socket, which hands over the IP header too (its
 * length is the IHL field). Echo requests (a raw socket on loopback sees our own) and
 * anything that is not about an echo request yield undefined.
 */
export function parseIcmp(packet: Buffer, source: string): IcmpAnswer | undefined {
  const icmp = ipPayload(packet);
  if (!icmp || icmp.length < 8) return undefined;
  const type = icmp[0]!;
  const code = icmp[1]!;
  if (type === ICMP_ECHO_REPLY) {
    return { kind: "reply", identifier: icmp.readUInt16BE(4), sequence: icmp.readUInt16BE(6), to: source, code };
  }
  if (type !== ICMP_TIME_EXCEEDED && type !== ICMP_UNREACHABLE) return undefined;
  // The error quotes the original datagram: its IP header and at least 8 bytes of its ICMP header.
  const quoted = icmp.subarray(8);
  const original = ipPayload(quoted);
  if (!original || original.length < 8 || original[0] !== ICMP_ECHO_REQUEST) return undefined;
  return {
    kind: type === ICMP_TIME_EXCEEDED ? "time-exceeded" : "unreachable",
    identifier: original.readUInt16BE(4),
    sequence: original.readUInt16BE(6),
    to: ipv4(quoted, 16),
    code,
  };
}

/** The payload of an IPv4 datagram that carries ICMP, or undefined if it is not one. */
function ipPayload(datagram: Buffer): Buffer | undefined {
  if (datagram.length < 20 || datagram[0]! >> 4 !== 4 || datagram[9] !== 1) return undefined;
  const headerLength = (datagram[0]! & 0x0f) * 4;
  return headerLength >= 20 && datagram.length >= headerLength ? datagram.subarray(headerLength) : undefined;
}

function ipv4(buf: Buffer, at: number): string {
  return `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
}
