import { chooseBundle, LAUNCH_INFO } from "./launcher.ts";

// Entry of dist/tsmon-agent-launcher.mjs: the installed bundle sits beside it.
const { entry, info } = chooseBundle(process.argv.slice(2), process.env, new URL("./tsmon-agent.mjs", import.meta.url));
(globalThis as Record<symbol, unknown>)[LAUNCH_INFO] = info;
await import(entry.href);
