/**
 * dnsupdate (alias rfc2136): RFC 2136 dynamic updates to one name server, TSIG-signed. Variables
 * as lego v5 reads them (DNSUPDATE_*, with lego v4's RFC2136_* as fallbacks); lego's
 * providers/dns/dnsupdate/dnsupdate.toml. Unlike lego, present adds the record without deleting
 * the name's other TXT records, so a wildcard and its base (one name, two values) are set together
 * instead of one after the other (lego: Sequential, 60 s apart). GSS-TSIG (Kerberos) is not supported.
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { ConfigError } from "../../config/errors.js";
import { withRetries } from "../../acme/retry.js";
import { DnsError, serverText, type DnsServer } from "../client.js";
import type { ProviderEnv } from "../env.js";
import { providerFailure } from "../errors.js";
import { Lookup } from "../lookup.js";
import { defineProvider, type DnsProvider, type ProviderContext, type TxtRecord } from "../provider.js";
import { timing, timingVariables } from "../timing.js";
import { decodeSecret, parseKeyFile, tsigAlgorithm, type TsigKey } from "../tsig.js";
import { sendUpdate } from "../update.js";
import { fqdn } from "../wire.js";

const P = "DNSUPDATE_";
const ALT = "RFC2136_";
const DEFAULTS = { propagationTimeout: 60, pollingInterval: 2, ttl: 120 };

interface Config {
  nameserver: { host: string; port: number };
  key: TsigKey | null;
  zones: string[];
  dnsTimeout: number;
  ttl: number;
}

/** "host", "host:port", "[v6]:port" or a bare IPv6 address (lego's parseNameserver). */
function parseNameserver(s: string): { host: string; port: number } | null {
  const b = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(s);
  if (b) return { host: b[1]!, port: Number(b[2] ?? 53) };
  if (isIP(s) === 6) return { host: s, port: 53 };
  const m = /^([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(s);
  if (!m) return null;
  const port = Number(m[2] ?? 53);
  return port >= 1 && port <= 65535 ? { host: m[1]!, port } : null;
}

function configure(env: ProviderEnv): { config: Config; timing: ReturnType<typeof timing> } {
  const get = (name: string) => env.first(P + name, ALT + name);
  const fail = (name: string, why: string): never => {
    throw new ConfigError(env.file, "dnsProvider", `${env.code}: ${P}${name}: ${why}`);
  };
  const ns = env.require(`${P}NAMESERVER`, `${ALT}NAMESERVER`);
  const nameserver = parseNameserver(ns.trim()) ?? fail("NAMESERVER", `"${ns}" is not "host" or "host:port"`);
  let keyName = get("TSIG_KEY");
  let secret = get("TSIG_SECRET");
  let algorithm = get("TSIG_ALGORITHM") ?? "hmac-sha1.";
  const keyFile = get("TSIG_FILE");
  if (tsigAlgorithm(algorithm) === null && /gss/i.test(algorithm)) fail("TSIG_ALGORITHM", "GSS-TSIG (Kerberos) is not supported by acme-renew; use an HMAC key");
  if (keyFile) {
    let text: string;
    try {
      text = readFileSync(keyFile, "utf8");
    } catch (e) {
      return fail("TSIG_FILE", `cannot read ${keyFile} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    const k = parseKeyFile(text);
    if (typeof k === "string") return fail("TSIG_FILE", `${keyFile}: ${k}`);
    ({ name: keyName, algorithm, secret } = k);
  } else if (!!keyName !== !!secret) {
    fail(keyName ? "TSIG_SECRET" : "TSIG_KEY", `not set, but ${P}${keyName ? "TSIG_KEY" : "TSIG_SECRET"} is (set both, or neither for unsigned updates)`);
  }
  let key: TsigKey | null = null;
  if (keyName && secret) {
    const alg = tsigAlgorithm(algorithm) ?? fail("TSIG_ALGORITHM", `"${algorithm}" is not one of hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512`);
    const bytes = decodeSecret(secret) ?? fail(keyFile ? "TSIG_FILE" : "TSIG_SECRET", "the secret is not valid base64");
    key = { name: fqdn(keyName), algorithm: alg, secret: bytes };
  }
  const zones = (get("ZONES") ?? "")
    .split(",")
    .map((z) => z.trim())
    .filter(Boolean)
    .map(fqdn)
    .sort((a, b) => b.length - a.length);
  const t = timing(env, P, DEFAULTS, [ALT]);
  // lego v0's name for the propagation timeout.
  if (!env.first(`${P}PROPAGATION_TIMEOUT`, `${ALT}PROPAGATION_TIMEOUT`) && env.first(`${P}TIMEOUT`, `${ALT}TIMEOUT`)) t.propagationTimeout = env.seconds(`${P}TIMEOUT`, 60, `${ALT}TIMEOUT`);
  const dnsTimeout = env.seconds(`${P}DNS_TIMEOUT`, 10, `${ALT}DNS_TIMEOUT`) || 10;
  return { config: { nameserver, key, zones, dnsTimeout, ttl: t.ttl }, timing: t };
}

class DnsUpdate implements DnsProvider {
  private server: Promise<DnsServer> | null = null;

  constructor(
    private readonly c: Config,
    private readonly ctx: ProviderContext,
  ) {}

  private resolveServer(): Promise<DnsServer> {
    this.server ??= (async () => {
      const { host, port } = this.c.nameserver;
      if (isIP(host)) return { host, port };
      const addrs = await this.ctx.lookup.addresses(fqdn(host));
      if (!addrs.length) throw providerFailure("dnsupdate", "not-found", `${P}NAMESERVER ${host}: no address (asked ${this.ctx.lookup.describe()})`);
      return { host: addrs[0]!, port };
    })();
    return this.server;
  }

  /** The zone to update: DNSUPDATE_ZONES' longest match, else the SOA the name server itself gives (as lego). */
  private async zoneOf(name: string, server: DnsServer): Promise<string> {
    if (this.c.zones.length) {
      const z = this.c.zones.find((z) => name === z || name.endsWith(`.${z}`));
      if (!z) throw providerFailure("dnsupdate", "not-found", `${name} is in none of ${P}ZONES (${this.c.zones.join(", ")})`);
      return z;
    }
    try {
      return (await new Lookup([server], () => this.ctx.signal, this.c.dnsTimeout * 1000).findZone(name)).name;
    } catch (e) {
      throw providerFailure("dnsupdate", e instanceof DnsError && e.kind === "timeout" ? "timeout" : "not-found", `zone of ${name} on ${serverText(server)}: ${(e as Error).message}`);
    }
  }

  private async change(action: "add" | "delete", r: TxtRecord): Promise<void> {
    const server = await this.resolveServer();
    const zone = await this.zoneOf(r.fqdn, server);
    const once = async () => {
      let res;
      try {
        res = await sendUpdate({ server, zone, name: r.fqdn, value: r.value, ttl: this.c.ttl, action, key: this.c.key, timeoutMs: this.c.dnsTimeout * 1000, signal: this.ctx.signal });
      } catch (e) {
        const kind = e instanceof DnsError ? e.kind : "network";
        throw providerFailure("dnsupdate", kind === "timeout" ? "timeout" : kind === "network" ? "network" : "bad-answer", `${action} TXT ${r.fqdn} in zone ${zone} at ${serverText(server)}: ${(e as Error).message}`);
      }
      if (res.ok) return;
      const msg = `${action} TXT ${r.fqdn} in zone ${zone} at ${serverText(server)}: ${res.rcode}: ${res.why}`;
      if (res.auth) throw providerFailure("dnsupdate", "auth", msg);
      throw providerFailure("dnsupdate", res.rcode === "SERVFAIL" ? "server" : "rejected", msg);
    };
    await withRetries(once, this.ctx.retry, this.ctx.signal, (f, n, delay) => this.ctx.log.warn("dns-retry", `${f.message}; retry ${n} in ${(delay / 1000).toFixed(1)}s`, { class: f.cls }));
  }

  present(r: TxtRecord): Promise<void> {
    return this.change("add", r);
  }

  cleanup(r: TxtRecord): Promise<void> {
    return this.change("delete", r);
  }
}

const names = (suffixes: string[]) => suffixes.map((s) => P + s);

export const definition = defineProvider<Config>({
  code: "dnsupdate",
  required: [`${P}NAMESERVER`],
  optional: [...names(["TSIG_KEY", "TSIG_SECRET", "TSIG_ALGORITHM", "TSIG_FILE", "ZONES", "DNS_TIMEOUT"]), ...timingVariables(P, DEFAULTS)],
  secrets: [`${P}TSIG_SECRET`, `${ALT}TSIG_SECRET`],
  configure,
  create: (config, ctx) => new DnsUpdate(config, ctx),
});
