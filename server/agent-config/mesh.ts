import type { AgentAddress } from "./store.ts";

/** `[reachability]` of server.toml, as the mesh builder needs it. */
export interface MeshSettings {
  mesh: boolean;
  mesh_max_targets: number;
  mesh_interval_secs: number;
}

/**
 * The agent-mesh checks of one agent: an icmp check named `mesh:<peer id>` for every other
 * agent with a known address, and a tcp check `mesh-tcp:<peer id>` where the peer
 * advertised a port. At most `mesh_max_targets` peers, the first by id, so every
 * server process picks the same ones.
 */
export function meshChecks(agentId: string, peers: readonly AgentAddress[], settings: MeshSettings): Record<string, unknown>[] {
  if (!settings.mesh) return [];
  const targets = peers.filter((p) => p.agent_id !== agentId)
    .sort((a, b) => (a.agent_id < b.agent_id ? -1 : a.agent_id > b.agent_id ? 1 : 0))
    .slice(0, settings.mesh_max_targets);
  const checks: Record<string, unknown>[] = [];
  for (const peer of targets) {
    const { host, port } = splitAddress(peer.address);
    const common = { target: host, interval_secs: settings.mesh_interval_secs };
    checks.push({ name: `mesh:${peer.agent_id}`, type: "icmp", ...common });
    if (port !== undefined) checks.push({ name: `mesh-tcp:${peer.agent_id}`, type: "tcp", ...common, port });
  }
  return checks;
}

/** `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address → host and port. */
export function splitAddress(address: string): { host: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(address);
  if (bracketed) return { host: bracketed[1]!, ...(bracketed[2] ? { port: Number(bracketed[2]) } : {}) };
  const hostPort = /^([^:]+):(\d+)$/.exec(address);
  if (hostPort) return { host: hostPort[1]!, port: Number(hostPort[2]) };
  return { host: address };
}
