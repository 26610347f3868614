import net from "node:net";
import { ConfigError } from "./load.ts";

/** The two listening ports of a server config, by the field that sets them. */
export type PortField = "grpc_port" | "http_port";

/**
 * A port that cannot be bound: one line naming the port, the address, the config field and
 * what to do, because that is all there is to say and a new user reads only the first line.
 */
export class PortError extends ConfigError {
  constructor(problem: string) {
    super("config", [problem]);
    this.message = problem;
    this.name = "PortError";
  }
}

/** What is wrong with binding `port` for `field`, from the bind error. */
export function portProblem(field: PortField, port: number, address: string, err: Error): string {
  const code = (err as NodeJS.ErrnoException).code ?? err.message;
  const why = /EADDRINUSE/.test(code) ? `is in use by another process; stop it or choose another ${field}`
    : /EACCES/.test(code) ? `needs privileges this process lacks; choose a ${field} above 1023 or grant CAP_NET_BIND_SERVICE`
    : /EADDRNOTAVAIL/.test(code) ? `cannot be bound: ${address} is not an address of this host; check bind_address`
    : `cannot be bound (${err.message.slice(0, 200)}); check bind_address or choose another ${field}`;
  return `${field}: port ${port} on ${address} ${why}`;
}

/**
 * Tries each port by listening on it a moment, so a launcher can refuse before it starts
 * anything (`npm start`). The server itself does not: under PM2 its instances share ports.
 */
export async function portsInUse(config: { bind_address: string; grpc_port: number; http_port: number }): Promise<PortError | undefined> {
  for (const field of ["grpc_port", "http_port"] as const) {
    const port = config[field];
    if (port === 0) continue;
    const err = await new Promise<Error | undefined>((resolve) => {
      const probe = net.createServer();
      probe.once("error", resolve);
      probe.listen({ port, host: config.bind_address, exclusive: true }, () => probe.close(() => resolve(undefined)));
    });
    // Only what is about the port itself; an address that does not resolve or is not this
    // host's is bind_address's problem, which preflight reports with the rest.
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (err && (code === "EADDRINUSE" || code === "EACCES")) return new PortError(portProblem(field, port, config.bind_address, err));
  }
  return undefined;
}
