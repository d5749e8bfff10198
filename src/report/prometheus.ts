/** node_exporter textfile collector output (Prometheus text exposition format 0.0.4). Pure. */
import type { StatusRow } from "./status.js";

interface Metric {
  name: string;
  help: string;
  value: (r: StatusRow) => number | null;
}

const seconds = (iso: string | null) => (iso ? Date.parse(iso) / 1000 : null);

const METRICS: Metric[] = [
  { name: "acme_renew_cert_not_after_seconds", help: "Expiry (notAfter) of the certificate on disk, Unix time.", value: (r) => seconds(r.notAfter) },
  { name: "acme_renew_cert_renewal_time_seconds", help: "When the certificate is due for renewal (local policy or ARI), Unix time.", value: (r) => seconds(r.nextRenewal) },
  { name: "acme_renew_last_attempt_timestamp_seconds", help: "Last time a renewal was attempted, Unix time.", value: (r) => seconds(r.lastAttempt) },
  { name: "acme_renew_last_success_timestamp_seconds", help: "Last successful renewal, Unix time.", value: (r) => seconds(r.lastSuccess) },
  { name: "acme_renew_consecutive_failures", help: "Renewal attempts that failed in a row.", value: (r) => r.consecutiveFailures },
  { name: "acme_renew_cert_usable", help: "1 when the certificate on disk can be served now (valid, matching key), else 0.", value: (r) => (r.usable ? 1 : 0) },
  { name: "acme_renew_hooks_pending", help: "1 while the reload hooks of the installed certificate are owed (they failed; every run retries them), else 0.", value: (r) => (r.hooksPending ? 1 : 0) },
];

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

export function prometheusText(rows: StatusRow[]): string {
  const out: string[] = [];
  for (const m of METRICS) {
    out.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} gauge`);
    for (const r of rows) {
      const v = m.value(r);
      if (v !== null) out.push(`${m.name}{name="${escapeLabel(r.name)}"} ${v}`);
    }
  }
  return `${out.join("\n")}\n`;
}
