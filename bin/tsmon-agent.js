#!/usr/bin/env node
// Runs the agent bundle (dist/, built by `npm run build:agent`; about 51 MB RSS) when it
// exists, and the TypeScript sources through tsx otherwise.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { launch } from "./launch.js";

const bundle = new URL("../dist/tsmon-agent.mjs", import.meta.url);
if (existsSync(fileURLToPath(bundle))) await import(bundle.href);
else await launch(new URL("../agent/main.ts", import.meta.url));
