import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import test from "ava";
import { Ajv } from "ajv";
import { parse, parseAllDocuments } from "yaml";

/*
 * What can be checked of deploy/helm/tsmon without helm (not installable here; CI runs
 * helm lint, helm template and kubeconform): the values against values.schema.json, every
 * `.Values` path a template uses is defined, and every manifest is YAML of the right shape
 * once its template actions are replaced by placeholders.
 */

const chart = new URL("../deploy/helm/tsmon/", import.meta.url).pathname;
const values = parse(readFileSync(path.join(chart, "values.yaml"), "utf8")) as Record<string, unknown>;
const schema = JSON.parse(readFileSync(path.join(chart, "values.schema.json"), "utf8")) as object;
const templates = readdirSync(path.join(chart, "templates")).map((f) => ({ file: f, text: readFileSync(path.join(chart, "templates", f), "utf8") }));

test("Chart.yaml names the chart and its version", (t) => {
  const meta = parse(readFileSync(path.join(chart, "Chart.yaml"), "utf8")) as Record<string, string>;
  t.is(meta.apiVersion, "v2");
  t.is(meta.name, "tsmon");
  t.regex(meta.version!, /^\d+\.\d+\.\d+$/);
});

test("values.yaml passes values.schema.json; wrong values do not", (t) => {
  const validate = new Ajv({ allErrors: true }).compile(schema);
  t.true(validate(values), JSON.stringify(validate.errors));
  const bad = structuredClone(values) as any;
  bad.server.service.httpPort = 70000;
  bad.secrets.jwtSecret = "short";
  bad.agent.colour = "blue";
  t.false(validate(bad));
  t.deepEqual(validate.errors!.map((e) => e.instancePath).sort(), ["/agent", "/secrets/jwtSecret", "/secrets/jwtSecret", "/secrets/jwtSecret", "/server/service/httpPort"].sort());
});

test("every .Values path the templates use is defined in values.yaml", (t) => {
  const missing: string[] = [];
  for (const { file, text } of templates) {
    for (const m of text.matchAll(/\.Values((?:\.[A-Za-z_][\w]*)+)/g)) {
      let at: unknown = values;
      for (const key of m[1]!.slice(1).split(".")) at = at && typeof at === "object" ? (at as Record<string, unknown>)[key] : undefined;
      if (at === undefined) missing.push(`${file}: .Values${m[1]}`);
    }
  }
  t.deepEqual(missing, []);
});

/** Template actions out: lines that are only actions go, inline ones become a placeholder scalar. */
function placeholderRender(text: string): string {
  return text.split("\n")
    .filter((line) => !/^\s*\{\{-?.*-?\}\}\s*$/.test(line) || /:\s*\{\{/.test(line))
    .map((line) => line.replace(/\{\{-?[^}]*-?\}\}/g, "x"))
    .join("\n");
}

test("every manifest is YAML with apiVersion, kind and metadata.name", (t) => {
  const kinds: string[] = [];
  for (const { file, text } of templates.filter((f) => f.file.endsWith(".yaml"))) {
    for (const doc of parseAllDocuments(placeholderRender(text))) {
      t.deepEqual(doc.errors.map((e) => e.message), [], file);
      const manifest = doc.toJSON() as { apiVersion?: string; kind?: string; metadata?: { name?: string } } | null;
      if (manifest === null) continue;
      t.truthy(manifest.apiVersion, file);
      t.truthy(manifest.metadata?.name, file);
      kinds.push(manifest.kind!);
    }
  }
  t.deepEqual(kinds.sort(), ["ConfigMap", "DaemonSet", "Ingress", "Secret", "Service", "Service", "ServiceMonitor", "StatefulSet"]);
});
