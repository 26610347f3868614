import type { Logger } from "../log.ts";
import type { AgentCommand, AgentCommandStore } from "./commands.ts";
import { effectiveConfig, type ConfigSources, type EffectiveConfig } from "./effective.ts";
import type { MeshSettings } from "./mesh.ts";
import type { AgentConfigStore } from "./store.ts";

/** One open WatchAgentConfig stream. */
interface Watcher {
  agentId: string;
  send(config: EffectiveConfig): void;
  command(command: AgentCommand): void;
  end(): void;
  sentVersion?: string;
}

/** How often each process looks for a change made by another (PM2 cluster): a change reaches every agent within this plus a send. */
const POLL_MS = 2_000;

/**
 * The agents watching their config on this process. A change made here is pushed at
 * once (`changed`); one made by another process is found by polling the store's version
 * every two seconds. Each agent is sent its effective config when it connects and then
 * only when its version moves: a change for other agents sends it nothing.
 */
export class WatchHub {
  private readonly watchers = new Set<Watcher>();
  private seenVersion = -1;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: AgentConfigStore, private readonly reachability: MeshSettings, private readonly log: Logger,
    private readonly commands?: AgentCommandStore, private readonly now: () => number = Date.now,
  ) {
    this.timer = setInterval(() => this.refresh(), POLL_MS).unref();
  }

  get size(): number {
    return this.watchers.size;
  }

  /** Starts sending `agentId`'s config to `send` (the first one now) and its commands to `command`; returns the unsubscribe. */
  watch(agentId: string, send: (config: EffectiveConfig) => void, end: () => void, command: (c: AgentCommand) => void = () => {}): () => void {
    const watcher: Watcher = { agentId, send, end, command };
    this.watchers.add(watcher);
    this.push(watcher, this.sources());
    return () => this.watchers.delete(watcher);
  }

  /** The config `agentId` gets now (the API shows it). */
  configOf(agentId: string): EffectiveConfig {
    return effectiveConfig(agentId, this.sources());
  }

  /** A change was written on this process: push it without waiting for the poll. */
  changed(): void {
    this.refresh();
  }

  /** Ends every stream (shutdown): the agents reconnect, to this process once it is back or to another. */
  close(): void {
    clearInterval(this.timer);
    for (const w of this.watchers) w.end();
    this.watchers.clear();
  }

  private refresh(): void {
    if (!this.watchers.size) return;
    this.deliverCommands();
    try {
      const version = this.store.version();
      if (version === this.seenVersion) return;
      this.seenVersion = version;
      const sources = this.sources();
      for (const w of this.watchers) this.push(w, sources);
    } catch (err) {
      // On a timer: a failed read is retried at the next poll, never the end of the process.
      this.seenVersion = -1;
      this.log.error({ err }, "reading the agents' remote config failed; retrying");
    }
  }

  /** Hands each watched agent the commands waiting for it (taken, so no other process sends them too). */
  private deliverCommands(): void {
    const commands = this.commands;
    const waiting = commands?.waitingAgents();
    if (!commands || !waiting?.size) return;
    for (const w of this.watchers) {
      if (!waiting.has(w.agentId)) continue;
      commands.take(w.agentId, this.now()).then((list) => { for (const c of list) w.command(c); },
        (err: unknown) => this.log.error({ err, agentId: w.agentId }, "taking the agent's commands failed; retrying"));
    }
  }

  private push(watcher: Watcher, sources: ConfigSources): void {
    const config = effectiveConfig(watcher.agentId, sources);
    if (config.version === watcher.sentVersion) return;
    watcher.sentVersion = config.version;
    watcher.send(config);
  }

  private sources(): ConfigSources {
    return { checks: this.store.checks(), settings: this.store.settings(), addresses: this.store.addresses(), reachability: this.reachability };
  }
}
