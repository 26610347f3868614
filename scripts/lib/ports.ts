import net from "node:net";

// Candidates come from below Linux's ephemeral range (32768+), where servers bound to
// port 0 never land, so another test's port-0 server cannot take one between our check
// and the real bind; a port is never handed out twice by one process.
const LOW = 20_000, HIGH = 32_000;
const handedOut = new Set<number>();

/** A loopback port that was free a moment ago, for servers that cannot be told port 0 (PM2 cluster, restarts). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (handedOut.has(port)) continue;
    if (await canBind(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free loopback port found between ${LOW} and ${HIGH}`);
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}
