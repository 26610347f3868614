#!/usr/bin/env node
// Runs the agent through its self-update launcher (dist/tsmon-agent-launcher.mjs, which
// starts the installed bundle or an update from the state dir: docs/agent-update.md) when
// the bundle is built (`npm run build:agent`; about 51 MB RSS), and the TypeScript sources
// through tsx otherwise.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { launch } from "./launch.js";

const launcher = new URL("../dist/tsmon-agent-launcher.mjs", import.meta.url);
const bundle = new URL("../dist/tsmon-agent.mjs", import.meta.url);
if (existsSync(fileURLToPath(launcher))) await import(launcher.href);
else if (existsSync(fileURLToPath(bundle))) await import(bundle.href);
else await launch(new URL("../agent/main.ts", import.meta.url));
