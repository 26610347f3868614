import test from "ava";
import { onCrash } from "../server/actors/runtime/restart-policy.ts";
import { shardOf } from "../server/actors/runtime/shard-of.ts";

const policy = { baseMs: 100, maxMs: 1_000, maxPerMinute: 3 };

test("backoff doubles per crash within a minute, capped", (t) => {
  let recent: number[] = [];
  const delays: number[] = [];
  for (const at of [0, 1_000, 2_000]) {
    const d = onCrash(policy, recent, at);
    recent = d.recent;
    delays.push(d.delayMs);
    t.false(d.crashLoop);
  }
  t.deepEqual(delays, [100, 200, 400]);
  t.true(onCrash(policy, recent, 3_000).crashLoop, "a fourth crash within the minute is a crash loop");
});

test("crashes older than a minute are forgotten", (t) => {
  const d = onCrash(policy, [0, 1_000, 2_000], 70_000);
  t.deepEqual(d.recent, [70_000]);
  t.is(d.delayMs, 100);
  t.false(d.crashLoop);
});

test("shardOf is stable and spreads agents", (t) => {
  t.is(shardOf("web-01", 4), shardOf("web-01", 4));
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 1000; i++) counts[shardOf(`host-${i}`, 4)]!++;
  for (const c of counts) t.true(c > 150, `uneven spread: ${counts}`);
});
