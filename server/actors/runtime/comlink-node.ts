import { createRequire } from "node:module";
import type { Endpoint } from "comlink";
import type { MessagePort, Worker } from "node:worker_threads";

// comlink ships its Node adapter as UMD only; its typings describe an ES default export
// that a CommonJS require does not have, so load it once here with the right type.
const require = createRequire(import.meta.url);
const adapter = require("comlink/dist/umd/node-adapter.js") as (port: MessagePort | Worker) => Endpoint;

/** A comlink endpoint over a worker_threads Worker or MessagePort. */
export const nodeEndpoint = adapter;
