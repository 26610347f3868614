import test from "ava";
import { readFileSync } from "node:fs";
import { parse } from "smol-toml";
import { RULE_TYPES, ruleIssues } from "../server/alerts/conditions/registry.ts";
import { RuleBook } from "../server/alerts/rule-book.ts";
import type { AlertRule } from "../server/alerts/types.ts";
import { alertRuleSchema, type AlertRuleConfig } from "../server/config/schema.ts";
import { tempControlStore } from "./helpers/temp-control.ts";
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

test("a stored rule of a type this version lacks is listed but not evaluated, and does not stop the others", async (t) => {
  const { control } = tempControlStore(t);
  const book = new RuleBook([], control.alerts);
  await book.create({ name: "cpu", type: "threshold", metric: "cpu.usage", operator: "gt", value: 90 } as AlertRuleConfig);
  await control.alerts.rules.put("gone", { id: "gone", name: "old", type: "retired_type", metric: "x", source: "api" } as unknown as AlertRule);
  const skipped: string[] = [];
  t.deepEqual(book.evaluable((r) => skipped.push(r.id)).map((r) => r.name), ["cpu"]);
  t.deepEqual(skipped, ["gone"]);
  t.is(book.all().length, 2, "still listed, so it can be deleted");
});
