import { randomUUID } from "node:crypto";
import { TsmonError } from "../../common/errors.ts";
import type { AlertRuleConfig } from "../config/schema.ts";
import type { AlertStore } from "../storage/alert-store.ts";
import { CONDITIONS } from "./conditions/registry.ts";
import type { AlertRule } from "./types.ts";

/**
 * Every alert rule: those of server.toml (read-only through the API, id from the file or
 * derived from the name) and those managed through the API (in the control store).
 */
export class RuleBook {
  private readonly fromConfig: AlertRule[];

  constructor(configRules: readonly AlertRuleConfig[], private readonly store: AlertStore) {
    const seen = new Set<string>();
    this.fromConfig = configRules.map((r) => {
      let id = r.id ?? "cfg-" + r.name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
      for (let n = 2; seen.has(id); n++) id = `${r.id ?? "cfg-" + r.name}-${n}`;
      seen.add(id);
      return { ...structuredClone(r), id, source: "config" } as AlertRule;
    });
  }

  all(): AlertRule[] {
    return [...this.fromConfig, ...[...this.store.rules.getRange({})].map(({ value }) => value)];
  }

  /**
   * The rules the actors can evaluate: a rule stored through the API under a type this
   * version no longer has is left out (it still lists and deletes), rather than stopping
   * every rule reload. `skipped` hears each one left out.
   */
  evaluable(skipped?: (rule: AlertRule) => void): AlertRule[] {
    return this.all().filter((rule) => {
      if (Object.hasOwn(CONDITIONS, rule.type)) return true;
      skipped?.(rule);
      return false;
    });
  }

  get(id: string): AlertRule | undefined {
    return this.fromConfig.find((r) => r.id === id) ?? this.store.rules.get(id);
  }

  async create(input: AlertRuleConfig): Promise<AlertRule> {
    const id = input.id ?? randomUUID();
    if (this.get(id)) throw new TsmonError("ALREADY_EXISTS", `a rule with id '${id}' exists`);
    const rule = { ...input, id, source: "api" } as AlertRule;
    await this.store.rules.put(id, rule);
    await this.store.bumpRulesVersion();
    return rule;
  }

  async replace(id: string, input: AlertRuleConfig): Promise<AlertRule> {
    this.writable(id);
    const rule = { ...input, id, source: "api" } as AlertRule;
    await this.store.rules.put(id, rule);
    await this.store.dropRuleState(id);
    await this.store.bumpRulesVersion();
    return rule;
  }

  async remove(id: string): Promise<void> {
    this.writable(id);
    await this.store.rules.remove(id);
    await this.store.dropRuleState(id);
    await this.store.bumpRulesVersion();
  }

  version(): number {
    return this.store.rulesVersion();
  }

  /** Reads after this see rules changed a moment ago by another thread or process. */
  refreshSnapshot(): void {
    this.store.refreshSnapshot();
  }

  private writable(id: string): void {
    const rule = this.get(id);
    if (!rule) throw new TsmonError("NOT_FOUND", `no alert rule '${id}'`);
    if (rule.source === "config") throw new TsmonError("PERMISSION_DENIED", `rule '${id}' comes from the config file and is read-only; edit server.toml`);
  }
}
