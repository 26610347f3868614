#!/usr/bin/env node
// Runs the compiled server (server/main.js, present in a release built by `npm run release`)
// with plain node, and the TypeScript sources through tsx otherwise.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { launch } from "./launch.js";

const compiled = new URL("../server/main.js", import.meta.url);
if (existsSync(fileURLToPath(compiled))) await import(compiled.href);
else await launch(new URL("../server/main.ts", import.meta.url));
