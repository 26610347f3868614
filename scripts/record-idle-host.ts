/**
 * Records this host with the agent's own collectors, one JSON batch per line:
 * `tsx scripts/record-idle-host.ts OUT.jsonl [minutes=60] [intervalS=10]`. It appends as it
 * goes, so a recording cut short keeps what it saw. scripts/idle-fixture.ts turns the
 * lines into the columnar test/fixtures/idle-host-1h.json.
 */
import { appendFileSync } from "node:fs";
import { collectBatch } from "../agent/collect-batch.ts";
import { createDefaultCollectors } from "../agent/collectors/default-collectors.ts";

const [out, minutesArg = "60", intervalArg = "10"] = process.argv.slice(2);
if (!out) throw new Error("usage: record-idle-host.ts OUT [minutes] [intervalS]");
const intervalMs = Number(intervalArg) * 1000;
const endAt = Date.now() + Number(minutesArg) * 60_000;
const collectors = await createDefaultCollectors();

// The rate collectors read their baselines on creation: the first batch comes one interval later.
let nextAt = Date.now() + intervalMs;
while (nextAt <= endAt) {
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, nextAt - Date.now())));
  const batch = await collectBatch(collectors, {
    agentId: "idle-host",
    timestampMs: Date.now(),
    onError: (name, err) => process.stderr.write(`${name}: ${String(err)}\n`),
  });
  if (batch) appendFileSync(out, JSON.stringify(batch) + "\n");
  nextAt += intervalMs;
}
