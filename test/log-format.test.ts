import test from "ava";
import { formatLogLine, wantsText } from "../common/log-format.ts";

test("a pino JSON line reads as time, level, component, message and key fields; an error's stack follows indented", (t) => {
  const time = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  const line = formatLogLine(JSON.stringify({ level: 30, time, pid: 1, hostname: "h", name: "tsmon-server", component: "http", msg: "ready", port: 8080, dir: "/a b" }));
  t.is(line, '03:04:05.678 INFO  [http] ready  port=8080 dir="/a b"\n');
  const failed = formatLogLine(JSON.stringify({ level: 50, time, msg: "boom", err: { message: "x", stack: "Error: x\n    at f" } }));
  t.is(failed, "03:04:05.678 ERROR boom\n    Error: x\n        at f\n");
  t.is(formatLogLine("not json"), "not json\n", "anything else passes through");
});

test("auto means text on a terminal and JSON elsewhere; json and text are what they say", (t) => {
  t.true(wantsText("auto", { isTTY: true }));
  t.false(wantsText("auto", {}));
  t.false(wantsText("json", { isTTY: true }));
  t.true(wantsText("text", {}));
});
