import type { Database, RootDatabase } from "lmdb";

/** Something an agent is asked to do now, sent on its config stream (AgentCommandProto). */
export interface AgentCommand {
  id: string;
  agent_id: string;
  /** What to do: "traceroute" (args.check: trace the path to that check's host). */
  kind: "traceroute";
  args: Record<string, string>;
  created_at: number;
}

/** A command not taken by then is dropped: whoever asked has stopped waiting. */
export const COMMAND_TTL_MS = 60_000;

/*
 * Commands waiting for their agent, in the control environment (`agent_commands`, keys
 * [agent_id, id]): the process that holds the agent's config stream takes them, whichever
 * process was asked (PM2 cluster). Taking removes them in a write transaction, so one
 * process sends each.
 */
export class AgentCommandStore {
  private readonly db: Database<AgentCommand, [string, string]>;

  constructor(env: RootDatabase) {
    this.db = env.openDB<AgentCommand, [string, string]>({ name: "agent_commands" });
  }

  add(command: AgentCommand): Promise<boolean> {
    return this.db.put([command.agent_id, command.id], command);
  }

  /** The agents with a command waiting (a read, so only they are taken from, in a write). */
  waitingAgents(): Set<string> {
    const agents = new Set<string>();
    for (const key of this.db.getKeys({})) agents.add(key[0]);
    return agents;
  }

  /** Removes and returns `agentId`'s commands still fresh at `nowMs`, oldest first; stale ones of any agent go too. */
  take(agentId: string, nowMs: number): Promise<AgentCommand[]> {
    return this.db.transaction(() => {
      const fresh: AgentCommand[] = [];
      for (const { key, value } of this.db.getRange({})) {
        const stale = nowMs - value.created_at > COMMAND_TTL_MS;
        if (stale || key[0] === agentId) this.db.remove(key);
        if (!stale && key[0] === agentId) fresh.push(value);
      }
      return fresh.sort((a, b) => a.created_at - b.created_at);
    });
  }
}
