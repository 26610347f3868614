import { underPm2Cluster } from "../pm2-cluster.ts";

/*
 * Besides the `TSMON_` fields (load.ts), the one fact the server takes from its environment:
 * whether PM2 runs it as one of several cluster instances. Read here so that the config
 * modules stay the only readers of process.env.
 */

/** True when this process is one of several PM2 cluster instances (see pm2-cluster.ts). */
export function runsInPm2Cluster(): boolean {
  return underPm2Cluster(process.env);
}
