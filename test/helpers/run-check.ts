import { createCheck, validateCheckTables } from "../../agent/checks/definitions.ts";
import { sharedIcmpSocket } from "../../agent/checks/icmp-socket.ts";
import { traceroute } from "../../agent/checks/traceroute.ts";

/*
 * Runs one check probe, or one traceroute, in this process and prints the result as JSON:
 * how tests run the agent's check code inside a network namespace
 * (`ip netns exec NS node --import tsx test/helpers/run-check.ts '{"check": {...}}'`).
 */

const request = JSON.parse(process.argv[2] ?? "{}") as { check?: Record<string, unknown>; traceroute?: string; timeoutMs?: number };
let output: unknown;
if (request.check) {
  const { checks, problems } = validateCheckTables([request.check]);
  if (problems.length) throw new Error(problems.join("; "));
  const def = checks[0]!;
  output = await createCheck(def).probe({ timeoutMs: def.timeout_ms, signal: AbortSignal.timeout(def.timeout_ms) });
} else if (request.traceroute) {
  output = await traceroute(request.traceroute, { maxHops: 8, timeoutMs: request.timeoutMs ?? 1000, signal: AbortSignal.timeout(20_000) });
} else {
  throw new Error(`expected {"check": {...}} or {"traceroute": "host"}, got ${process.argv[2]}`);
}
const socket = sharedIcmpSocket();
if (!("unavailable" in socket)) socket.close();
process.stdout.write(JSON.stringify(output));
