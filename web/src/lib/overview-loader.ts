import type { Overview } from "./fleet-model.ts";

/*
 * The fleet's 15 minutes of history, fetched from /v1/overview a chunk of agents at a time,
 * the cards on screen first: the page draws what it shows after one small reply instead of
 * after the whole fleet's, and no single reply is big enough to parse or ingest in a long
 * task. One request at a time, yielding to the page between chunks.
 */

/**
 * Agents per request: a reply of 25 agents with 16 series each is ≈ 140 KB, parsed and
 * ingested in well under 50 ms on a loaded machine. The cards on screen (up to 100, the
 * most globs /v1/overview takes) go in one request of their own.
 */
export const OVERVIEW_CHUNK = 25;
export const ON_SCREEN_CHUNK = 100;

/**
 * The glob that asks for exactly `agentId`: a comma would split the list, so it becomes `?`
 * (matching it and perhaps a neighbour, whose history is then simply in early).
 */
export function agentGlob(agentId: string): string {
  return agentId.replaceAll(",", "?");
}

/**
 * The next agents to fetch: those on screen still pending, alone (a small reply, drawn
 * soonest); when none is, the next `size` pending in page order.
 */
export function nextChunk(pending: ReadonlySet<string>, onScreen: readonly string[], order: readonly string[], size = OVERVIEW_CHUNK): string[] {
  const visible = pick(pending, onScreen, ON_SCREEN_CHUNK);
  return visible.length ? visible : pick(pending, order, size);
}

function pick(pending: ReadonlySet<string>, ids: readonly string[], size: number): string[] {
  const chunk = new Set<string>();
  for (const id of ids) {
    if (chunk.size >= size) break;
    if (pending.has(id)) chunk.add(id);
  }
  return [...chunk];
}

export interface OverviewLoaderDeps {
  fetchChunk: (agentIds: string[]) => Promise<Overview>;
  /** Agents whose cards are in the DOM now, and every agent in the page's order. */
  onScreen: () => readonly string[];
  order: () => readonly string[];
  onChunk: (overview: Overview) => void;
  onError: (err: Error) => void;
}

/** Gives the browser a turn (input, frames) between chunks. */
export function yieldToPage(): Promise<void> {
  const s = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler;
  return s?.yield ? s.yield() : new Promise((r) => setTimeout(r, 0));
}

export class OverviewLoader {
  private readonly pending = new Set<string>();
  private running = false;
  private stopped = false;

  constructor(private readonly deps: OverviewLoaderDeps) {}

  /** How many agents still wait for their history. */
  get queued(): number {
    return this.pending.size;
  }

  /** Queues agents for history; `kick` fetches (after the page has placed their cards). */
  queue(agentIds: Iterable<string>): void {
    for (const id of agentIds) this.pending.add(id);
  }

  /** Fetches until no agent is queued, unless already fetching; also resumes after a failed chunk. */
  kick(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (!this.stopped && this.pending.size) {
        const chunk = nextChunk(this.pending, this.deps.onScreen(), this.deps.order());
        // Agents no longer in the page's order (gone from /v1/agents) are not fetched.
        if (!chunk.length) {
          this.pending.clear();
          break;
        }
        const overview = await this.deps.fetchChunk(chunk);
        if (this.stopped) break;
        for (const id of chunk) this.pending.delete(id);
        this.deps.onChunk(overview);
        await yieldToPage();
      }
    } catch (err) {
      if (!this.stopped) this.deps.onError(err as Error);
    } finally {
      this.running = false;
    }
  }
}
