import { COMMON_FIELDS, type Rule, type RuleTypeForm } from "./rule-type.ts";

/**
 * A type without inputs of its own in the editor: its fields as JSON, prefilled from the
 * rule being edited; the server's schema for the type says what is wrong.
 */
export function jsonFieldsForm(type: string, example: Record<string, unknown>, metric: RuleTypeForm["metric"]): RuleTypeForm {
  const Fields = ({ rule }: { rule: Rule | null }) => {
    const own = rule ? Object.fromEntries(Object.entries(rule).filter(([k]) => !COMMON_FIELDS.has(k))) : example;
    return <label class="wide">Fields of {type} (JSON)<textarea name="extra" rows={3} defaultValue={JSON.stringify(own)} /></label>;
  };
  return {
    Fields,
    metric,
    read: (f) => {
      const text = String(f.get("extra") ?? "").trim();
      if (!text) return {};
      let fields: unknown;
      try {
        fields = JSON.parse(text);
      } catch (err) {
        throw new Error(`Fields of ${type}: not valid JSON (${(err as Error).message}); write an object such as ${JSON.stringify(example)}`);
      }
      if (typeof fields !== "object" || fields === null || Array.isArray(fields)) throw new Error(`Fields of ${type}: write a JSON object such as ${JSON.stringify(example)}`);
      return fields as Record<string, unknown>;
    },
    summary: (r) => [r.metric, ...Object.entries(r).filter(([k]) => !COMMON_FIELDS.has(k)).map(([k, v]) => `${k} ${JSON.stringify(v)}`)].join(", "),
  };
}
