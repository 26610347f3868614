import type { JSX } from "preact";

/** A rule as GET /v1/alerts/rules returns it: the common fields and its type's own. */
export interface Rule {
  id: string; name: string; type: string; metric: string; agent_pattern: string; labels: Record<string, string>;
  severity: string; silence_secs: number; enabled: boolean; source: string; read_only: boolean; [field: string]: unknown;
}

/** The fields every rule has (the editor's own inputs); the rest belong to the rule's type. */
export const COMMON_FIELDS = new Set(["id", "name", "type", "metric", "agent_pattern", "labels", "severity", "silence_secs", "enabled", "source", "read_only"]);

/**
 * What the rule editor knows of one rule type: its inputs, how to read them, what to check
 * before sending, and whether Preview (the backtest) means anything for it.
 */
export interface RuleTypeForm {
  /** The type's own inputs, inside the editor's form grid; `rule` is the rule being edited when it has this type. */
  Fields: (props: { rule: Rule | null }) => JSX.Element;
  /** "required": the type watches a metric the user names; "optional": it has a default; "fixed": the type sets it (input hidden, not sent). */
  metric: "required" | "optional" | "fixed";
  /** The type's fields from the submitted form; throws with a message naming the field when one cannot be read. */
  read(form: FormData): Record<string, unknown>;
  /** What is wrong with the whole rule, checked before it is sent (may read the API); empty when nothing is. */
  problems?(rule: Record<string, unknown>): Promise<string[]>;
  /** Why Preview cannot run for this type; absent when it can. */
  noPreview?: string;
  /** The rule's condition in a few words, for the rules list. */
  summary(rule: Rule): string;
}
