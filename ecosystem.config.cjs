// PM2 deployment: the server in cluster mode (instances share the gRPC and HTTP ports
// and the same LMDB files) and the local agent in fork mode, both run through tsx.
//   npx pm2 start ecosystem.config.cjs
// TSMON_INSTANCES sets the server instance count (default 2); TSMON_SERVER_CONFIG and
// TSMON_AGENT_CONFIG point at the TOML files (default: the embedded defaults).
const path = require("node:path");

const instances = Number(process.env.TSMON_INSTANCES || 2);
const serverConfig = process.env.TSMON_SERVER_CONFIG || "";
const agentConfig = process.env.TSMON_AGENT_CONFIG || "";

module.exports = {
  apps: [
    {
      name: "tsmon-server",
      cwd: __dirname,
      script: path.join(__dirname, "bin/tsmon-server.js"),
      args: serverConfig,
      node_args: "--import tsx",
      exec_mode: "cluster",
      instances,
      // Time to drain in-flight reports and close LMDB before PM2 sends SIGKILL.
      kill_timeout: 15000,
      max_restarts: 20,
      exp_backoff_restart_delay: 200,
      // glibc malloc: large freed buffers go back to the system (docs/performance.md, "Memory after bursts").
      env: { MALLOC_ARENA_MAX: "2", MALLOC_MMAP_THRESHOLD_: "131072" },
    },
    {
      // Runs dist/tsmon-agent.mjs through its self-update launcher when built (npm run
      // build:agent), else the sources via tsx. PM2 restarts it on any exit: exit 75 after a
      // self-update starts the new version (docs/agent-update.md).
      name: "tsmon-agent",
      cwd: __dirname,
      script: path.join(__dirname, "bin/tsmon-agent.js"),
      args: agentConfig,
      exec_mode: "fork",
      kill_timeout: 5000,
      exp_backoff_restart_delay: 200,
    },
  ],
};
