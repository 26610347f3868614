/**
 * True when this process is one of several PM2 cluster instances, which write the same data
 * dir: PM2 passes its app settings to the process as environment variables (checked with
 * PM2 7: `exec_mode` "cluster_mode", `instances` "2"; "max" and -1 also mean several).
 */
export function underPm2Cluster(env: Record<string, string | undefined>): boolean {
  return env.exec_mode === "cluster_mode" && env.instances !== undefined && env.instances !== "1";
}
