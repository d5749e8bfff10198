/** lego's common per-provider knobs: `<P>_PROPAGATION_TIMEOUT`, `<P>_POLLING_INTERVAL`, `<P>_TTL`, `<P>_HTTP_TIMEOUT`, `<P>_SEQUENCE_INTERVAL`. */
import type { ProviderEnv } from "./env.js";
import type { Timing } from "./provider.js";

export interface TimingDefaults {
  propagationTimeout: number;
  pollingInterval: number;
  ttl: number;
  httpTimeout?: number;
  sequenceInterval?: number;
}

/** lego's dns01 defaults (DefaultPropagationTimeout, DefaultPollingInterval, DefaultTTL). */
export const LEGO_DEFAULTS = { propagationTimeout: 60, pollingInterval: 2, ttl: 120 } as const;

/** The timing knobs with `prefix` (e.g. "CLOUDFLARE_"); `alt` prefixes are lego's fallback names. */
export function timing(env: ProviderEnv, prefix: string, d: TimingDefaults, alt: string[] = []): Timing & { httpTimeout: number } {
  const names = (suffix: string) => alt.map((p) => p + suffix);
  const t: Timing & { httpTimeout: number } = {
    propagationTimeout: env.seconds(`${prefix}PROPAGATION_TIMEOUT`, d.propagationTimeout, ...names("PROPAGATION_TIMEOUT")),
    pollingInterval: Math.max(1, env.seconds(`${prefix}POLLING_INTERVAL`, d.pollingInterval, ...names("POLLING_INTERVAL"))),
    ttl: env.int(`${prefix}TTL`, d.ttl, 0, ...names("TTL")),
    httpTimeout: env.seconds(`${prefix}HTTP_TIMEOUT`, d.httpTimeout ?? 30, ...names("HTTP_TIMEOUT")) || 30,
  };
  if (d.sequenceInterval !== undefined) t.sequenceInterval = env.seconds(`${prefix}SEQUENCE_INTERVAL`, d.sequenceInterval, ...names("SEQUENCE_INTERVAL"));
  return t;
}

/** The variable names timing() reads, for the README and messages. */
export function timingVariables(prefix: string, d: TimingDefaults): string[] {
  return [
    `${prefix}PROPAGATION_TIMEOUT`,
    `${prefix}POLLING_INTERVAL`,
    `${prefix}TTL`,
    ...(d.httpTimeout !== undefined ? [`${prefix}HTTP_TIMEOUT`] : []),
    ...(d.sequenceInterval !== undefined ? [`${prefix}SEQUENCE_INTERVAL`] : []),
  ];
}
