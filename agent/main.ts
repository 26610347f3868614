import v8 from "node:v8";
import { startAgent } from "./agent.ts";
import { AGENT_USAGE, AgentConfigError, parseAgentCommand, type AgentCommand } from "./config.ts";
import { createAgentLogger } from "./log.ts";
import { agentVersion, readSystemInfo } from "./system-info.ts";
import { EXIT_UPDATE, openUpdateSession } from "./update/session.ts";

/*
 * `tsx agent/main.ts [CONFIG] [flags]`, or `node dist/tsmon-agent.mjs [CONFIG] [flags]` once
 * built by `npm run build:agent`. Exit codes: 0 after --help or a signal, 2 on a bad
 * configuration (every problem is printed), 1 when start-up fails otherwise, 75
 * (EXIT_UPDATE) to be started again on a self-update just installed or rolled back.
 */

// The agent wakes once per interval for a few milliseconds of work: V8's optimizing
// compilers buy it nothing, yet paging their machine code in once functions turn hot costs
// about 3.5 MB of resident memory (bundle on Node 20: 55 MB VmRSS with them, 51 MB
// without, and slightly less CPU). Set before any function is hot, so none is in flight.
v8.setFlagsFromString("--no-turbofan");
v8.setFlagsFromString("--no-maglev");

let command: AgentCommand;
try {
  command = await parseAgentCommand(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof AgentConfigError)) throw err;
  process.stderr.write(`${err.message}\n${err.source === "command line" ? `\n${AGENT_USAGE}\n` : ""}`);
  process.exit(2);
}

if (command.kind === "help") {
  process.stdout.write(`${command.usage}\n`);
  process.exit(0);
}
if (command.kind === "version") {
  process.stdout.write(`tsmon-agent ${agentVersion}\n`);
  process.exit(0);
}

const log = createAgentLogger("info", command.config.logFormat);
const updates = openUpdateSession(command.config, log, agentVersion);
let agent;
try {
  const systemInfo = await readSystemInfo();
  agent = await startAgent(command.config, {
    logger: log,
    systemInfo: updates.failure ? { ...systemInfo, updateFailedVersion: updates.failure.version, updateFailure: updates.failure.reason } : systemInfo,
  });
} catch (err) {
  log.fatal({ err, configFile: command.configFile }, "agent failed to start");
  process.exit(1);
}
if (command.configFile) log.info({ configFile: command.configFile }, "configuration loaded");
const running = agent;
const updating = updates.start(running, () => {
  updating.stop();
  running.stop().finally(() => process.exit(EXIT_UPDATE));
});

let signalled = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    // A second signal while flushing means "now".
    if (signalled) process.exit(0);
    signalled = true;
    updating.stop();
    log.info({ signal }, "stopping: one last flush of the buffer");
    agent.stop().then(() => process.exit(0), (err) => {
      log.error({ err }, "error while stopping");
      process.exit(0);
    });
  });
}
