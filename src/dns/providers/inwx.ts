/**
 * inwx: INWX's JSON-RPC API (https://api.domrobot.com/jsonrpc/, sandbox https://api.ote.domrobot.com/jsonrpc/):
 * account.login (a session cookie; account.unlock with a TOTP code when 2FA is on, from
 * INWX_SHARED_SECRET), nameserver.createRecord, nameserver.info + nameserver.deleteRecord, then
 * account.logout — the calls of lego's providers/dns/inwx (goinwx). INWX_USERNAME, INWX_PASSWORD,
 * INWX_SHARED_SECRET, INWX_SANDBOX and the knobs lego reads. API: https://www.inwx.de/en/help/apidoc
 */
import { createHmac } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { ConfigError } from "../../config/errors.js";
import type { ProviderEnv } from "../env.js";
import { providerFailure } from "../errors.js";
import { apiBase, defineProvider, unFqdn, type DnsProvider, type ProviderContext, type TxtRecord } from "../provider.js";
import { timing, timingVariables } from "../timing.js";

const P = "INWX_";
const DEFAULTS = { propagationTimeout: 360, pollingInterval: 2, ttl: 300 };

interface Config {
  user: string;
  pass: string;
  secret: Buffer | null;
  base: string;
  ttl: number;
}

/** RFC 4648 base32 (the TOTP secret's usual form, as Google Authenticator shows it). */
export function base32(s: string): Buffer | null {
  const t = s.replace(/[\s=]/g, "").toUpperCase();
  if (!/^[A-Z2-7]+$/.test(t)) return null;
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of t) {
    value = (value << 5) | "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 TOTP (HMAC-SHA-1, 30 s steps, 6 digits), as INWX's 2FA expects. */
export function totp(secret: Buffer, unixSeconds: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const h = createHmac("sha1", secret).update(counter).digest();
  const o = h[h.length - 1]! & 0xf;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

function configure(env: ProviderEnv) {
  const user = env.require(`${P}USERNAME`);
  const pass = env.require(`${P}PASSWORD`);
  const s = env.get(`${P}SHARED_SECRET`);
  const secret = s === undefined ? null : base32(s);
  if (s !== undefined && !secret) throw new ConfigError(env.file, "dnsProvider", `${env.code}: ${P}SHARED_SECRET: not a base32 TOTP secret`);
  const sandbox = env.bool(`${P}SANDBOX`, false);
  const t = timing(env, P, { ...DEFAULTS, httpTimeout: 30 });
  return { config: { user, pass, secret, base: `${apiBase(env, "inwx", sandbox ? "https://api.ote.domrobot.com/jsonrpc/" : "https://api.domrobot.com/jsonrpc/")}/`, ttl: t.ttl }, timing: t };
}

interface RpcAnswer {
  code?: number;
  msg?: string;
  reason?: string;
  resData?: Record<string, unknown>;
}

class Inwx implements DnsProvider {
  private lastUnlock = 0;

  constructor(
    private readonly c: Config,
    private readonly ctx: ProviderContext,
  ) {}

  private async rpc(cookie: string | null, method: string, params: Record<string, unknown>, what: string, ok: number[] = [1000]): Promise<{ answer: RpcAnswer; cookie: string | null }> {
    const r = { what, headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) }, body: JSON.stringify({ method, params }) };
    const res = await this.ctx.http.json<RpcAnswer>("POST", this.c.base, r);
    const a = res.data;
    if (!a || typeof a.code !== "number") throw this.ctx.http.garbage("POST", this.c.base, r, res.status, "no code");
    if (!ok.includes(a.code)) {
      const text = `${method}: ${a.code} ${a.msg ?? ""}${a.reason ? ` (${a.reason})` : ""}`;
      throw providerFailure("inwx", a.code === 2200 || a.code === 2201 ? "auth" : a.code >= 2400 && a.code < 2500 ? "server" : "rejected", `${what}: ${text}`);
    }
    const set = res.headers["set-cookie"];
    const session = (Array.isArray(set) ? set : set ? [set] : []).map((c) => c.split(";")[0]!).find((c) => c.startsWith("domrobot="));
    return { answer: a, cookie: session ?? cookie };
  }

  /** Logs in (and unlocks 2FA), runs `fn` with the session, logs out. */
  private async session<T>(fn: (cookie: string) => Promise<T>): Promise<T> {
    const login = await this.rpc(null, "account.login", { user: this.c.user, pass: this.c.pass, lang: "en" }, "log in");
    if (!login.cookie) throw providerFailure("inwx", "bad-answer", "log in: no session cookie in the answer");
    const cookie = login.cookie;
    try {
      if (login.answer.resData?.tfa && login.answer.resData.tfa !== "0") {
        if (!this.c.secret) throw providerFailure("inwx", "auth", "the account has two-factor authentication: set INWX_SHARED_SECRET");
        // A TOTP code is good once: the second unlock of a run waits for the next 30 s step (as lego).
        const now = Date.now() / 1000;
        const wait = Math.floor(this.lastUnlock / 30) === Math.floor(now / 30) ? 30 - (now % 30) : 0;
        if (wait) await sleep(wait * 1000 + 100, undefined, { signal: this.ctx.signal }).catch(() => {});
        this.lastUnlock = Date.now() / 1000;
        await this.rpc(cookie, "account.unlock", { tan: totp(this.c.secret, this.lastUnlock) }, "unlock (2FA)");
      }
      return await fn(cookie);
    } finally {
      await this.rpc(cookie, "account.logout", {}, "log out", [1500, 1000]).catch((e) => this.ctx.log.warn("dns-provider", `inwx: ${(e as Error).message}`));
    }
  }

  async present(r: TxtRecord): Promise<void> {
    const zone = unFqdn((await this.ctx.findZone(r.fqdn)).name);
    await this.session((cookie) => this.rpc(cookie, "nameserver.createRecord", { domain: zone, name: unFqdn(r.fqdn), type: "TXT", content: r.value, ttl: this.c.ttl }, `create TXT ${r.fqdn}`, [1000, 2302]));
  }

  async cleanup(r: TxtRecord): Promise<void> {
    const zone = unFqdn((await this.ctx.findZone(r.fqdn)).name);
    await this.session(async (cookie) => {
      const info = await this.rpc(cookie, "nameserver.info", { domain: zone, name: unFqdn(r.fqdn), type: "TXT" }, `read TXT ${r.fqdn}`);
      const records = info.answer.resData?.record;
      const rec = Array.isArray(records) ? (records as Array<{ id?: unknown; content?: unknown }>).find((x) => x.content === r.value) : undefined;
      if (!rec || rec.id === undefined) return;
      await this.rpc(cookie, "nameserver.deleteRecord", { id: rec.id }, `delete TXT ${r.fqdn}`);
    });
  }
}

export const definition = defineProvider<Config>({
  code: "inwx",
  required: ["INWX_USERNAME", "INWX_PASSWORD"],
  optional: ["INWX_SHARED_SECRET", "INWX_SANDBOX", ...timingVariables(P, DEFAULTS)],
  secrets: ["INWX_PASSWORD", "INWX_SHARED_SECRET"],
  configure,
  create: (config, ctx) => new Inwx(config, ctx),
});
