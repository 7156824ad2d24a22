/** The package ships no types: what the tests read of its output (prom2json's shape). */
declare module "parse-prometheus-text-format" {
  export interface ParsedMetricFamily {
    name: string;
    help: string;
    type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
    metrics: { value?: string; labels?: Record<string, string> }[];
  }
  export default function parsePrometheusTextFormat(text: string): ParsedMetricFamily[];
}
