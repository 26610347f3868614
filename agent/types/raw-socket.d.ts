/** The part of raw-socket (1.8, no bundled types) the ICMP check uses. */
declare module "raw-socket" {
  import type { EventEmitter } from "node:events";

  export interface RawSocket extends EventEmitter {
    send(buffer: Buffer, offset: number, length: number, address: string, beforeSend: () => void, afterSend: (error: Error | null, bytes: number) => void): this;
    setOption(level: number, option: number, value: number): void;
    setOption(level: number, option: number, value: Buffer, length: number): void;
    /**
     * The native socket under the package's queue: its send is one sendto(2) right away,
     * calling `afterSend` with the bytes sent, and throws when the system refuses.
     */
    readonly wrap?: { send?(buffer: Buffer, offset: number, length: number, address: string, afterSend: (bytes: number) => void): void };
    pauseRecv(): this;
    resumeRecv(): this;
    close(): this;
    readonly recvPaused: boolean;
    on(event: "message", listener: (buffer: Buffer, source: string) => void): this;
    on(event: "error", listener: (error: Error) => void): this;
    on(event: "close", listener: () => void): this;
  }

  export function createSocket(options: { protocol?: number; addressFamily?: number; bufferSize?: number }): RawSocket;
  export const Protocol: { ICMP: number; ICMPv6: number; None: number };
  export const AddressFamily: { IPv4: number; IPv6: number };
  export const SocketLevel: { IPPROTO_IP: number; SOL_SOCKET: number };
  export const SocketOption: { IP_TTL: number; SO_RCVBUF: number };
  export function createChecksum(...buffers: Buffer[]): number;
  export function writeChecksum(buffer: Buffer, offset: number, checksum: number): Buffer;
}
