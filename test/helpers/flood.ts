import * as grpc from "@grpc/grpc-js";
import { makeBatch, ProtoClient } from "./proto-client.ts";

/*
 * A flood, as a process of its own (the test's client must not share its event loop):
 * `flood.ts ADDRESS AGENT TOKEN|random OUTSTANDING`. Keeps OUTSTANDING report calls in
 * flight, resending at once whatever was refused, until stdin closes; then prints the
 * count of answers by gRPC status as JSON and exits.
 */
const [address, agentId, token, outstanding] = process.argv.slice(2) as [string, string, string, string];
const client = new ProtoClient(address);
const seen: Record<string, number> = {};
const from = Date.now() - 3_600_000;
let stopped = false, n = 0;
const loop = async () => {
  while (!stopped) {
    const tok = token === "random" ? `garbage-${Math.random()}` : token;
    const code = await client.report(makeBatch(agentId, from + (n++ % 100_000)), tok).then(() => grpc.status.OK, (e: grpc.ServiceError) => e.code);
    seen[grpc.status[code]] = (seen[grpc.status[code]] ?? 0) + 1;
  }
};
const loops = Array.from({ length: Number(outstanding) }, loop);
process.stdin.resume();
process.stdin.on("end", async () => {
  stopped = true;
  await Promise.all(loops);
  client.close();
  process.stdout.write(JSON.stringify(seen));
  process.exit(0);
});
