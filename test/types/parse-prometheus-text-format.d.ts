declare module "parse-prometheus-text-format" {
  /** Families with their samples, as parsed from Prometheus text exposition. */
  export default function parsePrometheusTextFormat(text: string): { name: string; help: string; type: string; metrics: any[] }[];
}
