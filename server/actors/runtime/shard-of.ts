/** Stable shard index of an agent: FNV-1a over its id, so every process agrees. */
export function shardOf(agentId: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < agentId.length; i++) {
    h ^= agentId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}
