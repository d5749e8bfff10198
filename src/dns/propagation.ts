/**
 * The propagation check, against the authoritative servers (as lego does): the zone of the record
 * (SOA walk through the resolver), its NS set, then each name server is asked directly (RD clear)
 * until every one serves the value, or the time is up. A recursive resolver's cache — its negative
 * caching above all — never decides it. Polls fast at first (250 ms, doubling) up to the provider's
 * polling interval.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { DnsError, queryOne, serverText, type DnsServer } from "./client.js";
import type { Lookup } from "./lookup.js";
import { TYPE, rcodeName } from "./wire.js";

/**
 * Test-only seam (like lego's authoritativeNSPort): the tests' name servers listen on a high loopback
 * port, real ones on 53. Not a user option.
 */
function authoritativePort(): number {
  const p = Number(process.env._ACME_RENEW_TEST_AUTH_DNS_PORT);
  return Number.isInteger(p) && p > 0 && p < 65536 ? p : 53;
}

export interface WaitOptions {
  timeoutMs: number;
  /** Longest pause between two rounds (the provider's polling interval). */
  maxIntervalMs: number;
  signal?: AbortSignal | undefined;
  /** Called once per round with what is still missing. */
  onWait?: (pending: string) => void;
}

interface Ns {
  name: string;
  addresses: string[];
  ok: boolean;
  last: string;
}

async function serves(ns: Ns, name: string, value: string, port: number, signal: AbortSignal | undefined): Promise<void> {
  if (!ns.addresses.length) {
    ns.last = "no address";
    return;
  }
  for (const host of ns.addresses) {
    const server: DnsServer = { host, port };
    try {
      const m = await queryOne(server, name, TYPE.TXT, { recursive: false, timeoutMs: 2000, signal });
      const values = m.answers.filter((rr) => rr.type === TYPE.TXT).map((rr) => (rr.txt ?? []).join(""));
      if (values.includes(value)) {
        ns.ok = true;
        return;
      }
      ns.last = m.rcode !== 0 ? `${serverText(server)}: ${rcodeName(m.rcode)}` : `${serverText(server)}: ${values.length ? `${values.length} other value(s)` : "no TXT record"}`;
      return;
    } catch (e) {
      ns.last = (e as Error).message;
      if (signal?.aborted) return;
    }
  }
}

/** Resolves when every authoritative server of the record's zone serves `value` at `name`. */
export async function waitAuthoritative(lookup: Lookup, name: string, value: string, o: WaitOptions): Promise<{ zone: string; nameservers: string[]; ms: number }> {
  const t0 = Date.now();
  const deadline = t0 + o.timeoutMs;
  const zone = await lookup.findZone(name);
  const names = await lookup.nameservers(zone.name);
  const servers: Ns[] = await Promise.all(names.map(async (n) => ({ name: n, addresses: await lookup.addresses(n), ok: false, last: "not asked yet" })));
  const port = authoritativePort();
  for (let round = 0, delay = 250; ; round++, delay = Math.min(delay * 2, o.maxIntervalMs)) {
    await Promise.all(servers.filter((s) => !s.ok).map((s) => serves(s, name, value, port, o.signal)));
    const pending = servers.filter((s) => !s.ok);
    if (!pending.length) return { zone: zone.name, nameservers: names, ms: Date.now() - t0 };
    const what = pending.map((s) => `${s.name} (${s.last})`).join(", ");
    if (o.signal?.aborted) throw new DnsError("timeout", `TXT ${name}: deadline reached while waiting for ${what}`);
    if (Date.now() + delay > deadline) {
      throw new DnsError("timeout", `TXT ${name} not served by every authoritative server of ${zone.name} after ${Math.round((Date.now() - t0) / 1000)}s: ${what}`);
    }
    if (round === 0 || round % 5 === 0) o.onWait?.(what);
    await sleep(delay, undefined, o.signal ? { signal: o.signal } : {}).catch(() => {});
  }
}
