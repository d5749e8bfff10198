/** `acme-renew doctor`: everything a person wants to see when a certificate does not renew. */
import { readFileSync, statSync } from "node:fs";
import { get } from "node:https";
import { trustContext } from "../acme/trust.js";
import { ConfigError } from "../config/errors.js";
import type { ConfigLoader } from "../config/load.js";
import type { CertConfig, DnsChallenge } from "../config/types.js";
import { preflight } from "../preflight/preflight.js";
import { precheck } from "../run/precheck.js";
import type { Logger } from "../report/log.js";
import { lockHolder } from "../store/lock.js";
import { BUILD_TIME } from "../util/build-info.js";

export type Mark = "ok" | "warn" | "fail";
export interface Finding {
  mark: Mark;
  what: string;
  detail: string;
}

function mode(path: string): string | null {
  try {
    return (statSync(path).mode & 0o777).toString(8).padStart(4, "0");
  } catch {
    return null;
  }
}

/** GET the ACME directory (no account, no nonce): is the CA reachable and answering? */
export function reachCa(server: string, caBundle: string | null, timeoutMs = 10_000): Promise<Finding> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    let secureContext;
    try {
      secureContext = trustContext(caBundle ? readFileSync(caBundle, "utf8") : null);
    } catch (e) {
      resolve({ mark: "fail", what: "CA", detail: caBundle ? `caBundle ${caBundle}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` : (e as Error).message });
      return;
    }
    const req = get(server, { timeout: timeoutMs, ...(secureContext ? { secureContext } : {}) }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => {
        let keys = "";
        try {
          keys = Object.keys(JSON.parse(body)).join(", ");
        } catch {
          keys = "not JSON";
        }
        const ok = res.statusCode === 200;
        resolve({ mark: ok ? "ok" : "fail", what: "CA", detail: `${server} answered ${res.statusCode} in ${Date.now() - t0} ms (${keys})` });
      });
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (e: NodeJS.ErrnoException) => resolve({ mark: "fail", what: "CA", detail: `${server}: ${e.code ?? ""} ${e.message}` }));
  });
}

/** dns-01: the provider, where its variables come from (names only), the resolver and the check. No network. */
async function dnsFinding(config: CertConfig): Promise<Finding> {
  const c = config.challenge as DnsChallenge;
  const check = !c.propagationCheck ? "propagation check off" : `authoritative propagation check, timeout ${c.propagationTimeout ?? "the provider's"}${c.propagationTimeout === null ? "" : " s"}`;
  const resolver = c.resolvers.length ? c.resolvers.map((r) => (r.host.includes(":") ? `[${r.host}]:${r.port}` : `${r.host}:${r.port}`)).join(", ") : "/etc/resolv.conf";
  const warnings: string[] = [];
  try {
    const { prepareProvider } = await import("../dns/setup.js");
    const p = await prepareProvider(config, c, process.env, (m) => warnings.push(m));
    const vars = p.env.setVariables().map((v) => `${v.name} from ${v.origin}`).join(", ") || "no variables";
    return { mark: warnings.length ? "warn" : "ok", what: "dns", detail: `${c.code}${c.hook ? ` (dnsHook ${c.hook})` : ""}: ${vars}; resolver ${resolver}; ${check}${warnings.length ? `; ${warnings.join("; ")}` : ""}` };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return { mark: "fail", what: "dns", detail: e.message };
  }
}

export async function doctor(configs: ConfigLoader, names: string[], stateDir: string, now: Date, log: Logger): Promise<Array<{ name: string; findings: Finding[] }>> {
  const out: Array<{ name: string; findings: Finding[] }> = [];
  for (const name of names) {
    const f: Finding[] = [];
    let config;
    try {
      config = configs.load(name);
      f.push({ mark: "ok", what: "config", detail: `${config.file} (challenge ${config.challenge.type}, key ${config.keyType}, server ${config.server})` });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      f.push({ mark: "fail", what: "config", detail: e.message });
      out.push({ name, findings: f });
      continue;
    }
    const p = precheck(config, stateDir, now, log);
    const d = p.decision;
    f.push({ mark: d.usable ? (d.renew ? "warn" : "ok") : "fail", what: "certificate", detail: `${d.status}: ${d.reasons.join("; ")}` });
    const keyMode = mode(p.paths.key);
    if (keyMode) f.push({ mark: /^0[67][04]0$/.test(keyMode) ? "ok" : "warn", what: "permissions", detail: `key.pem ${keyMode}, directory ${mode(p.paths.dir)} (expected 0600 or 0640, and 0750)` });
    const owner = await lockHolder(p.paths.lock);
    f.push(owner ? { mark: "warn", what: "lock", detail: `${p.paths.lock} held by ${owner} (a run in progress)` } : { mark: "ok", what: "lock", detail: "free" });
    const s = p.state;
    f.push({
      mark: s.consecutiveFailures ? "warn" : "ok",
      what: "state",
      detail: `last attempt ${s.lastAttempt?.toISOString() ?? "never"}, outcome ${s.lastOutcome ?? "-"}, consecutive failures ${s.consecutiveFailures}${s.nextAttemptAt ? `, next attempt ${s.nextAttemptAt.toISOString()}` : ""}${s.lastError ? `, last error ${s.lastError.class}: ${s.lastError.message}` : ""}`,
    });
    if (s.hooksPending) {
      f.push({ mark: "warn", what: "hooks", detail: `reload hooks owed since ${s.hooksPending.since.toISOString()} (${s.hooksPending.attempts} failed run(s)${s.hooksPending.lastError ? `, last: ${s.hooksPending.lastError}` : ""}); every run retries them` });
    }
    if (p.pending || p.pendingProblem) {
      f.push({ mark: "warn", what: "pending", detail: p.pending ? `${p.paths.pending}: a certificate the CA issued at ${p.pending.pending.at.toISOString()}, not installed yet (${p.pending.ok ? "the next run installs it without a new order" : `not installable: ${p.pending.decision.reasons.join("; ")}`})` : String(p.pendingProblem) });
    }
    const pre = await preflight(config.server, stateDir, now, BUILD_TIME);
    const n = pre.network;
    f.push({ mark: n.down ? "fail" : "ok", what: "network", detail: n.loopbackServer ? "CA on loopback" : `interfaces up: ${n.interfacesUp.join(", ") || "none"}; default route: ${n.defaultRoute ?? "none"}` });
    f.push({ mark: pre.clock.sane ? "ok" : "fail", what: "clock", detail: `${pre.clock.now}${pre.clock.sane ? "" : ` is before the build time ${pre.clock.floor}`}` });
    f.push({ mark: pre.disk.low ? "fail" : "ok", what: "disk", detail: pre.disk.freeBytes === null ? `${pre.disk.path}: unknown` : `${(pre.disk.freeBytes / 1048576).toFixed(0)} MiB free in ${pre.disk.path}` });
    if (config.challenge.type === "dns01") f.push(await dnsFinding(config));
    f.push(await reachCa(config.server, config.caBundle));
    if (config.cluster) f.push(...(await (await import("./cluster.js")).clusterFindings(config, p)));
    out.push({ name, findings: f });
  }
  return out;
}

export function render(results: Array<{ name: string; findings: Finding[] }>): string {
  const sym: Record<Mark, string> = { ok: "ok  ", warn: "WARN", fail: "FAIL" };
  return results.map((r) => [`${r.name}:`, ...r.findings.map((x) => `  ${sym[x.mark]} ${x.what.padEnd(12)} ${x.detail}`)].join("\n")).join("\n\n") + "\n";
}
