import { TsmonError } from "../../../common/errors.ts";
import type { ByteBudget } from "./byte-budget.ts";

export interface AdmissionOptions {
  requireAgentAuth: boolean;
  /** The agent a token belongs to (a hash and a lookup); `refresh` renews the read snapshot. */
  agentOfToken(token: string): string | undefined;
  refresh(): void;
  bytes: ByteBudget;
  /** Reports one sender may have in flight: no agent (or client posing as many) can take every place. */
  perSender: number;
  now?: () => number;
}

/** A report let in: its sender's place and its bytes, given back by `release` once it is answered. */
export interface Ticket { sender: string; bytes: number }

/** How long a verified token is trusted without a lookup (the ingest thread still checks each report against the store). */
const VERIFIED_FOR_MS = 10_000;

/** lmdb-js renews a thread's snapshot on its own within a timer tick; this only closes that gap. */
const REFRESH_AT_MOST_EVERY_MS = 250;

/**
 * Admission before work, on the main thread: who is sending (an unknown token costs a hash
 * and a lookup, never a place in the ingest queue), whether that sender already holds its
 * share of the queue, and whether the bytes fit. Only what passes is handed to ingest.
 */
export class Admission {
  private readonly verified = new Map<string, { agentId: string; until: number }>();
  private readonly inFlight = new Map<string, number>();
  private readonly now: () => number;
  private refreshedAt = -Infinity;

  constructor(private readonly options: AdmissionOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * The sender a report counts against: the agent its token belongs to, else `fallback`
   * (the agent-id header or the peer address). Throws UNAUTHENTICATED when agents must
   * authenticate and the token is missing or no agent's.
   */
  identify(token: string | undefined, fallback: string): string {
    if (!token) {
      if (this.options.requireAgentAuth) throw new TsmonError("UNAUTHENTICATED", "this server requires agent authentication: send 'authorization: Bearer <token>' (agent config auth_token)");
      return fallback;
    }
    const now = this.now();
    const known = this.verified.get(token);
    if (known && known.until > now) return known.agentId;
    let agentId = this.options.agentOfToken(token);
    if (agentId === undefined && now - this.refreshedAt >= REFRESH_AT_MOST_EVERY_MS) {
      // The snapshot may predate a whitelisting a moment ago (here or by a peer); a flood of
      // unknown tokens renews it a few times a second at most.
      this.refreshedAt = now;
      this.options.refresh();
      agentId = this.options.agentOfToken(token);
    }
    if (agentId === undefined) {
      this.verified.delete(token);
      if (this.options.requireAgentAuth) throw new TsmonError("UNAUTHENTICATED", "unknown agent token: add the agent with POST /v1/agents/whitelist and use the token it returns");
      return fallback;
    }
    if (this.verified.size > 100_000) this.verified.clear(); // tokens are per agent: this bounds a pathological churn
    this.verified.set(token, { agentId, until: now + VERIFIED_FOR_MS });
    return agentId;
  }

  /** Lets a report of `bytes` in for `sender`, or throws a retryable RESOURCE_EXHAUSTED. */
  admit(sender: string, bytes: number): Ticket {
    const held = this.inFlight.get(sender) ?? 0;
    if (held >= this.options.perSender) {
      throw new TsmonError("RESOURCE_EXHAUSTED", `'${sender.slice(0, 128)}' already has ${held} reports in flight, its share of ingest; wait for their answers`, true);
    }
    this.options.bytes.take(bytes);
    this.inFlight.set(sender, held + 1);
    return { sender, bytes };
  }

  release(ticket: Ticket): void {
    this.options.bytes.give(ticket.bytes);
    const held = (this.inFlight.get(ticket.sender) ?? 1) - 1;
    if (held > 0) this.inFlight.set(ticket.sender, held);
    else this.inFlight.delete(ticket.sender);
  }

  get perSender(): number {
    return this.options.perSender;
  }

  /** Senders with reports in flight (for /metrics and tests). */
  get senders(): number {
    return this.inFlight.size;
  }
}
