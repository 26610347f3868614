import test from "ava";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { loadServerConfig } from "../server/config/load.ts";

/*
 * docker compose cannot run here: what can be checked is that both compose files parse, and
 * that the environment the VictoriaMetrics override gives the server is a config the server
 * accepts, with remote_write pointing at the VictoriaMetrics service.
 */

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const compose = (name: string) => parse(readFileSync(path.join(root, name), "utf8")) as { services: Record<string, { environment?: Record<string, string>; depends_on?: string[] }> };

test("the VictoriaMetrics override wires the server's remote_write to its VictoriaMetrics service", (t) => {
  const base = compose("docker-compose.yml"), withVm = compose("docker-compose.victoria-metrics.yml");
  t.deepEqual(Object.keys(base.services).sort(), ["agent", "server"]);
  t.truthy(withVm.services["victoria-metrics"], "the override adds VictoriaMetrics");
  const env = { ...base.services.server!.environment, ...withVm.services.server!.environment };
  const warnings: string[] = [];
  const config = loadServerConfig(undefined, { env, warn: (m) => warnings.push(m) });
  t.deepEqual(warnings, []);
  t.is(config.remote_write.length, 1);
  t.is(config.remote_write[0]!.url, "http://victoria-metrics:8428/api/v1/write");
  t.deepEqual(withVm.services.server!.depends_on, ["victoria-metrics"]);
});
