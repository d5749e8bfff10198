/**
 * etcd v3 through its JSON gateway (`/v3/...` on the client port) over node:http(s): no gRPC stack
 * to load (docs/cluster.md says why not the etcd3 package). Every call has an overall deadline and a
 * per-attempt timeout; a failing endpoint hands over to the next one; requests carry
 * `hasleader`, so a member that has lost the leader answers at once instead of waiting out etcd's
 * own request timeout. Errors are ClusterErrors with a kind; credentials never appear in them.
 */
import http from "node:http";
import https from "node:https";
import { readFileSync } from "node:fs";
import { ClusterError, type ClusterErrorKind } from "./errors.js";

export interface EtcdConnection {
  endpoints: string[];
  /** PEM contents (not paths). */
  ca?: string | null;
  cert?: string | null;
  key?: string | null;
  username?: string | null;
  password?: string | null;
  /** Where the username came from (a file name), for error messages. */
  credentialSource?: string;
  /** One HTTP attempt against one endpoint (default 2500 ms). */
  attemptTimeoutMs?: number;
  /** One call, all attempts and endpoints together (default 8000 ms). */
  opTimeoutMs?: number;
}

export interface EtcdFiles {
  endpoints: string[];
  caFile?: string | null;
  certFile?: string | null;
  keyFile?: string | null;
  usernameFile?: string | null;
  passwordFile?: string | null;
}

function readConfigFile(field: string, file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ClusterError("config", `cluster.etcd.${field} ${file}: ${code === "ENOENT" ? "not found" : code === "EACCES" ? "permission denied" : (code ?? (e as Error).message)}`);
  }
}

/** Reads the files the config names; every error names the field and file, never a content. */
export function loadConnection(f: EtcdFiles): EtcdConnection {
  if (f.endpoints.length === 0) throw new ClusterError("config", "cluster.etcd.endpoints: no endpoint");
  for (const e of f.endpoints) {
    let u: URL;
    try {
      u = new URL(e);
    } catch {
      throw new ClusterError("config", `cluster.etcd.endpoints: "${e}" is not a URL`);
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new ClusterError("config", `cluster.etcd.endpoints: "${e}" must be http:// or https://`);
    if (u.pathname !== "/" || u.search || u.username || u.password) throw new ClusterError("config", `cluster.etcd.endpoints: "${e}" must be scheme://host:port only (no path, query or credentials)`);
  }
  if (!!f.certFile !== !!f.keyFile) throw new ClusterError("config", "cluster.etcd: certFile and keyFile go together");
  if (!!f.usernameFile !== !!f.passwordFile) throw new ClusterError("config", "cluster.etcd: usernameFile and passwordFile go together");
  const line = (field: string, file: string) => {
    const v = readConfigFile(field, file).replace(/\r?\n$/, "");
    if (v === "" || /[\r\n]/.test(v)) throw new ClusterError("config", `cluster.etcd.${field} ${file}: must hold one non-empty line`);
    return v;
  };
  return {
    endpoints: f.endpoints.map((e) => e.replace(/\/$/, "")),
    ca: f.caFile ? readConfigFile("caFile", f.caFile) : null,
    cert: f.certFile ? readConfigFile("certFile", f.certFile) : null,
    key: f.keyFile ? readConfigFile("keyFile", f.keyFile) : null,
    username: f.usernameFile ? line("usernameFile", f.usernameFile) : null,
    password: f.passwordFile ? line("passwordFile", f.passwordFile) : null,
    ...(f.usernameFile ? { credentialSource: f.usernameFile } : {}),
  };
}

export const b64 = (s: string | Buffer) => (typeof s === "string" ? Buffer.from(s, "utf8") : s).toString("base64");
export const unb64 = (s: unknown): Buffer => (typeof s === "string" ? Buffer.from(s, "base64") : Buffer.alloc(0));

/** The smallest key greater than every key that starts with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): string {
  const b = Buffer.from(prefix, "utf8");
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      const end = Buffer.from(b.subarray(0, i + 1));
      end[i]!++;
      return end.toString("base64");
    }
  }
  return b64("\0");
}

// gRPC status codes as the gateway reports them in {"code": n, "message": "..."}.
const GRPC = { DEADLINE: 4, NOT_FOUND: 5, PERMISSION: 7, UNAVAILABLE: 14, UNAUTHENTICATED: 16 } as const;

/** An answer from a member that another member might not give (try the next endpoint). */
const ENDPOINT_LOCAL: ReadonlySet<ClusterErrorKind> = new Set(["unreachable", "unavailable", "timeout", "tls"]);

interface Answer {
  status: number;
  json: any;
  text: string;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Overrides the connection's opTimeoutMs for this call. */
  timeoutMs?: number;
}

export class EtcdClient {
  /** Every HTTP request sent, retries and authentication included (tests and benchmarks read it). */
  requests = 0;
  readonly requestsByPath = new Map<string, number>();
  private readonly agents: { http: http.Agent; https: https.Agent };
  private preferred = 0;
  private token: string | null = null;
  private readonly attemptMs: number;
  private readonly opMs: number;

  constructor(readonly conn: EtcdConnection) {
    if (conn.endpoints.length === 0) throw new ClusterError("config", "cluster.etcd.endpoints: no endpoint");
    this.attemptMs = conn.attemptTimeoutMs ?? 2_500;
    this.opMs = conn.opTimeoutMs ?? 8_000;
    this.agents = {
      http: new http.Agent({ keepAlive: true, maxSockets: 8 }),
      https: new https.Agent({ keepAlive: true, maxSockets: 8, ...(conn.ca ? { ca: conn.ca } : {}), ...(conn.cert ? { cert: conn.cert } : {}), ...(conn.key ? { key: conn.key } : {}) }),
    };
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** One unary v3 call (`path` like "/v3/kv/range"), with failover and re-authentication. */
  async call(path: string, body: object, o: CallOptions = {}): Promise<any> {
    const deadline = Date.now() + (o.timeoutMs ?? this.opMs);
    let reauthed = false;
    for (;;) {
      if (this.conn.username && this.token === null && path !== "/v3/auth/authenticate") await this.authenticate(deadline, o.signal);
      try {
        return await this.withFailover(path, body, deadline, o.signal);
      } catch (e) {
        // Simple tokens expire after a while without use, and a changed auth store invalidates them.
        if (e instanceof TokenExpired && this.conn.username && !reauthed) {
          reauthed = true;
          this.token = null;
          continue;
        }
        if (e instanceof TokenExpired) throw new ClusterError("auth", `etcd refused the authentication token again after a fresh login (user from ${this.conn.credentialSource ?? "config"})`);
        throw e;
      }
    }
  }

  private async authenticate(deadline: number, signal?: AbortSignal): Promise<void> {
    const r = await this.withFailover("/v3/auth/authenticate", { name: this.conn.username, password: this.conn.password }, deadline, signal);
    if (typeof r?.token !== "string" || r.token === "") {
      throw new ClusterError("protocol", "etcd accepted the login but sent no token (is auth enabled on the cluster?)");
    }
    this.token = r.token;
  }

  private async withFailover(path: string, body: object, deadline: number, signal?: AbortSignal): Promise<any> {
    const n = this.conn.endpoints.length;
    const last = new Map<string, ClusterError>();
    let refusedRounds = 0;
    for (let round = 0; ; round++) {
      for (let k = 0; k < n; k++) {
        const i = (this.preferred + k) % n;
        const ep = this.conn.endpoints[i]!;
        const left = deadline - Date.now();
        if (left <= 0) throw this.exhausted(path, last);
        if (signal?.aborted) throw new ClusterError("timeout", `etcd ${path}: cancelled`);
        try {
          const a = await this.send(ep, path, body, Math.min(this.attemptMs, left), signal);
          const out = this.interpret(ep, path, a);
          this.preferred = i;
          return out;
        } catch (e) {
          if (e instanceof TokenExpired) throw e;
          const ce = e instanceof ClusterError ? e : new ClusterError("protocol", `etcd ${ep}${path}: ${(e as Error).message}`, { endpoint: ep });
          if (!ENDPOINT_LOCAL.has(ce.kind)) throw ce;
          last.set(ep, ce);
        }
      }
      // Every endpoint failed its TLS handshake: the configuration, not the network. Every endpoint
      // refused the connection twice in a row: etcd is down; say so now rather than at the deadline.
      const errs = [...last.values()];
      if (errs.every((e) => e.kind === "tls")) throw this.exhausted(path, last);
      if (errs.every(refused)) {
        if (++refusedRounds >= 2) throw this.exhausted(path, last);
      } else refusedRounds = 0;
      const pause = Math.min(100 * 2 ** round, 1_000) * (0.5 + Math.random() / 2);
      if (Date.now() + pause >= deadline) throw this.exhausted(path, last);
      await new Promise((r) => setTimeout(r, pause));
    }
  }

  private exhausted(path: string, last: Map<string, ClusterError>): ClusterError {
    const errs = [...last.values()];
    const kind: ClusterErrorKind = errs.length === 0 ? "timeout" : errs.every((e) => e.kind === "tls") ? "tls" : errs.some((e) => e.kind === "unavailable") ? "unavailable" : errs.some((e) => e.kind === "timeout") ? "timeout" : "unreachable";
    const what = kind === "tls" ? "TLS failed with every endpoint" : kind === "unavailable" ? "no etcd member could serve the request (no leader / no quorum)" : kind === "unreachable" ? "no etcd endpoint reachable" : "etcd did not answer in time";
    const detail = [...last.entries()].map(([ep, e]) => `${ep}: ${e.message.replace(`etcd ${ep}${path}: `, "")}`).join("; ");
    return new ClusterError(kind, `${what} (${path}${detail ? `; ${detail}` : ""})`);
  }

  private send(ep: string, path: string, body: object, timeoutMs: number, signal?: AbortSignal): Promise<Answer> {
    const url = new URL(path, ep);
    const isHttps = url.protocol === "https:";
    const payload = JSON.stringify(body);
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(payload)),
      // Fail fast on a member without a leader (etcd's rpctypes.MetadataRequireLeaderKey).
      "grpc-metadata-hasleader": "true",
    };
    if (this.token && path !== "/v3/auth/authenticate") headers.authorization = this.token;
    this.requests++;
    this.requestsByPath.set(path, (this.requestsByPath.get(path) ?? 0) + 1);
    return new Promise<Answer>((resolve, reject) => {
      const req = (isHttps ? https : http).request(url, { method: "POST", headers, agent: isHttps ? this.agents.https : this.agents.http, ...(signal ? { signal } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (d: Buffer) => {
          size += d.length;
          if (size > 8 << 20) req.destroy(new Error("answer larger than 8 MiB"));
          else chunks.push(d);
        });
        res.on("end", () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString("utf8");
          let json: any = null;
          try {
            json = text ? JSON.parse(text) : null;
          } catch {
            json = null;
          }
          resolve({ status: res.statusCode ?? 0, json, text });
        });
        res.on("error", (e) => reject(transportError(ep, path, e)));
      });
      const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: "ETIMEDOUT" })), timeoutMs);
      req.on("error", (e) => {
        clearTimeout(timer);
        reject(transportError(ep, path, e));
      });
      req.end(payload);
    });
  }

  /** Maps one gateway answer to a result or a ClusterError. */
  private interpret(ep: string, path: string, a: Answer): any {
    if (a.status === 200 && a.json && typeof a.json === "object" && a.json.code === undefined) return a.json;
    const msg: string = typeof a.json?.message === "string" ? a.json.message : typeof a.json?.error === "string" ? a.json.error : a.text.trim().slice(0, 200) || `HTTP ${a.status}`;
    const code: number | undefined = typeof a.json?.code === "number" ? a.json.code : undefined;
    const at = `etcd ${ep}${path}`;
    const err = (kind: ClusterErrorKind, m: string) => new ClusterError(kind, `${at}: ${m}`, { endpoint: ep });
    if (/invalid auth token|auth revision is old/.test(msg)) throw new TokenExpired();
    if (/authentication failed|invalid user ID or password/.test(msg)) throw err("auth", `login refused for the user in ${this.conn.credentialSource ?? "the config"}: ${msg}`);
    if (/user name is empty|user name not found/.test(msg) || code === GRPC.UNAUTHENTICATED) throw err("auth", this.conn.username ? msg : `${msg} (the cluster requires authentication: set cluster.etcd.usernameFile and passwordFile)`);
    if (code === GRPC.PERMISSION || /permission denied/.test(msg)) {
      // Without a login, etcd judges the request as the identity of a client certificate (through
      // the gateway: its own): what is missing is the login, not a permission.
      if (!this.conn.username) throw err("auth", `${msg}: without a login (the cluster has auth on? set cluster.etcd.usernameFile and passwordFile)`);
      throw err("permission", `${msg} (the user's role needs readwrite on the cluster prefix)`);
    }
    if (/CommonName of client/.test(msg)) throw err("config", "etcd refuses a client certificate with a CommonName through its JSON gateway when auth is on: use a certificate without CN (and a user/password)");
    if (/no leader|leader changed|not capable|too many requests|request timed out|server is stopping/i.test(msg) || code === GRPC.UNAVAILABLE) throw err("unavailable", msg);
    if (code === GRPC.DEADLINE || /deadline exceeded|timed out/.test(msg)) throw err("timeout", msg);
    if (a.status === 404) throw err("protocol", `HTTP 404 (${msg}): is this etcd 3.5 with its gRPC gateway enabled?`);
    if (a.status >= 500) throw err("unavailable", `HTTP ${a.status}: ${msg}`);
    if (code === GRPC.NOT_FOUND && /lease not found/.test(msg)) throw new LeaseNotFound(`${at}: ${msg}`, { endpoint: ep });
    throw err("protocol", `HTTP ${a.status}: ${msg}`);
  }

  /**
   * A streaming call (watch): sends `body` once and hands every JSON message of the answer to
   * `onMessage` until it returns true, the time is up, or the stream ends. Resolves to what ended
   * it; failures end it too ("error"), the caller re-reads instead of trusting a broken stream.
   */
  stream(path: string, body: object, onMessage: (m: any) => boolean, timeoutMs: number, signal?: AbortSignal): Promise<"matched" | "timeout" | "ended" | "error"> {
    const ep = this.conn.endpoints[this.preferred]!;
    const url = new URL(path, ep);
    const isHttps = url.protocol === "https:";
    const payload = JSON.stringify(body);
    const headers: Record<string, string> = { "content-type": "application/json", "grpc-metadata-hasleader": "true" };
    if (this.token) headers.authorization = this.token;
    this.requests++;
    this.requestsByPath.set(path, (this.requestsByPath.get(path) ?? 0) + 1);
    return new Promise((resolve) => {
      let done = false;
      const finish = (why: "matched" | "timeout" | "ended" | "error") => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        req.destroy();
        resolve(why);
      };
      const onAbort = () => finish("timeout");
      // Streams get their own connection (agent: false): a pooled socket would stay busy.
      const req = (isHttps ? https : http).request(url, { method: "POST", headers, agent: false, ...(isHttps ? { ca: this.conn.ca ?? undefined, cert: this.conn.cert ?? undefined, key: this.conn.key ?? undefined } : {}) }, (res) => {
        if (res.statusCode !== 200) return finish("error");
        let buf = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          buf += d;
          let nl: number;
          while ((nl = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (!line) continue;
            let m: any;
            try {
              m = JSON.parse(line);
            } catch {
              return finish("error");
            }
            if (m?.error) return finish("error");
            if (onMessage(m?.result ?? m)) return finish("matched");
          }
          if (buf.length > 1 << 20) finish("error");
        });
        res.on("end", () => finish("ended"));
        res.on("error", () => finish("error"));
      });
      const timer = setTimeout(() => finish("timeout"), timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      req.on("error", () => finish("error"));
      req.end(payload);
    });
  }
}

class TokenExpired extends Error {}

/** The lease named in a call no longer exists (expired or revoked). */
export class LeaseNotFound extends ClusterError {
  constructor(message: string, extra: { endpoint?: string } = {}) {
    super("lock-lost", message, extra);
  }
}

const REFUSED = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
const refused = (e: ClusterError) => e.kind === "unreachable" && REFUSED.has(((e.extra.cause as NodeJS.ErrnoException | undefined)?.code) ?? "");

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|EPROTO|ERR_OSSL)/;

function transportError(ep: string, path: string, e: Error): ClusterError {
  const code = (e as NodeJS.ErrnoException).code ?? "";
  const at = `etcd ${ep}${path}`;
  if (code === "ETIMEDOUT") return new ClusterError("timeout", `${at}: ${e.message}`, { endpoint: ep, cause: e });
  if (TLS_CODES.test(code) || /certificate|handshake|alert/i.test(e.message)) return new ClusterError("tls", `${at}: TLS: ${code || e.message}${code && !e.message.includes(code) ? ` (${e.message})` : ""}`, { endpoint: ep, cause: e });
  if (code === "ABORT_ERR") return new ClusterError("timeout", `${at}: cancelled`, { endpoint: ep, cause: e });
  return new ClusterError("unreachable", `${at}: ${code || e.message}`, { endpoint: ep, cause: e });
}
