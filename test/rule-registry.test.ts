import test from "ava";
import { readFileSync } from "node:fs";
import { parse } from "smol-toml";
import { RULE_TYPES, ruleIssues } from "../server/alerts/conditions/registry.ts";
import { alertRuleSchema } from "../server/config/schema.ts";
import { componentSchemas } from "../server/http/openapi/schemas.ts";
import { CHANNEL_PLUGINS } from "../server/notify/channels/registry.ts";

/* The registries are the one list of rule and channel types: the schemas and docs follow them. */

const docs = readFileSync(new URL("../docs/rules.md", import.meta.url), "utf8");

test("docs/rules.md has a section per rule type, and every example in it is a valid rule", (t) => {
  for (const type of RULE_TYPES) t.regex(docs, new RegExp(`^## ${type}$`, "m"), type);
  const examples = [...docs.matchAll(/```toml\n([\s\S]*?)```/g)].flatMap((m) => (parse(m[1]!) as { alert: { rules: unknown[] } }).alert.rules);
  t.true(examples.length >= RULE_TYPES.length);
  for (const rule of examples) {
    const parsed = alertRuleSchema.safeParse(rule);
    t.true(parsed.success, JSON.stringify(rule));
  }
  t.deepEqual([...new Set(examples.map((r) => (r as { type: string }).type))].sort(), [...RULE_TYPES].sort());
});

test("a type's constraints between fields come from its condition (the config and the API both ask)", (t) => {
  const cert = (warning_days: number, critical_days: number) => alertRuleSchema.parse({ name: "c", type: "cert_expiration", warning_days, critical_days });
  t.deepEqual(ruleIssues(cert(7, 30)), [{ field: "critical_days", message: "critical_days must not exceed warning_days" }]);
  t.deepEqual(ruleIssues(cert(30, 7)), []);
  t.deepEqual(ruleIssues(alertRuleSchema.parse({ name: "t", type: "threshold", metric: "m", operator: "gt", value: 1 })), [], "types without a check");
});

test("the OpenAPI document lists exactly the registered rule and channel types", (t) => {
  const schemas = componentSchemas() as Record<string, { properties: { type: { enum: string[] } } }>;
  t.deepEqual(schemas.AlertRule!.properties.type.enum, RULE_TYPES);
  t.deepEqual([...schemas.NotificationChannel!.properties.type.enum].sort(), Object.keys(CHANNEL_PLUGINS).sort());
});
