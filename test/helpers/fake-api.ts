/**
 * Local HTTPS fakes of DNS providers' APIs (written from each provider's public API reference, cited
 * in its module under test/helpers/fakes/). A fake records every request, checks its method, path,
 * authentication and body the way the documented API would (anything else is a recorded
 * violation answered with 400), and keeps the TXT records it was given in a store that mirrors them
 * into pebble-challtestsrv, which Pebble's VA asks. Faults can be injected per request.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clearTxt, setTxt, type Pebble } from "./pebble.js";

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: string;
}

/** Credentials the provider sent (bearer tokens, API key headers, session cookies): secrets as much as the variables they came from. */
export function credentialsInTransit(requests: readonly FakeRequest[]): string[] {
  const out = new Set<string>();
  for (const r of requests) {
    const auth = String(r.headers.authorization ?? "");
    const bearer = /^(?:Bearer|Basic|Token)\s+(\S+)/i.exec(auth)?.[1];
    if (bearer) out.add(bearer);
    for (const h of ["x-api-key", "x-auth-key", "x-auth-token", "x-ovh-consumer", "x-amz-security-token"]) {
      const v = r.headers[h];
      if (typeof v === "string" && v) out.add(v);
    }
    for (const c of String(r.headers.cookie ?? "").split(";")) {
      const v = c.split("=").slice(1).join("=").trim();
      if (v) out.add(v);
    }
  }
  return [...out].filter((v) => v.length >= 8);
}

export interface FakeReply {
  status?: number;
  json?: unknown;
  body?: string;
  headers?: Record<string, string>;
}

/**
 * TXT records by absolute name, mirrored into challtestsrv when one is attached. Changes are applied
 * one at a time (challtestsrv's clear-then-set of a name must not interleave with another change of it).
 */
export class TxtStore {
  readonly records = new Map<string, string[]>();
  private tail: Promise<unknown> = Promise.resolve();
  constructor(private readonly pebble: Pick<Pebble, "challtestsrvUrl"> | null = null) {}

  private key(name: string): string {
    return `${name.toLowerCase().replace(/\.$/, "")}.`;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => {});
    return next;
  }

  add(name: string, value: string): Promise<void> {
    return this.serial(async () => {
      const k = this.key(name);
      this.records.set(k, [...(this.records.get(k) ?? []), value]);
      if (this.pebble) await setTxt(this.pebble, k, value);
    });
  }

  /** Replaces all values of a name (an RRset written whole), as one change. */
  set(name: string, values: readonly string[]): Promise<void> {
    return this.serial(async () => {
      await this.removeNow(name);
      const k = this.key(name);
      if (values.length) this.records.set(k, [...values]);
      if (this.pebble) for (const v of values) await setTxt(this.pebble, k, v);
    });
  }

  /** Removes one value (or all of the name's); challtestsrv only clears whole names, so the rest is set again. */
  remove(name: string, value?: string): Promise<boolean> {
    return this.serial(() => this.removeNow(name, value));
  }

  private async removeNow(name: string, value?: string): Promise<boolean> {
    const k = this.key(name);
    const before = this.records.get(k) ?? [];
    const i = value === undefined ? -1 : before.indexOf(value);
    if (value !== undefined && i < 0) return false;
    const rest = value === undefined ? [] : before.filter((_, j) => j !== i);
    if (rest.length) this.records.set(k, rest);
    else this.records.delete(k);
    if (this.pebble) {
      await clearTxt(this.pebble, k);
      for (const v of rest) await setTxt(this.pebble, k, v);
    }
    return before.length > 0;
  }

  get(name: string): string[] {
    return this.records.get(this.key(name)) ?? [];
  }
}

export type Handler = (r: FakeRequest, fake: FakeApi) => Promise<FakeReply> | FakeReply;

export interface FakeApi {
  /** https://127.0.0.1:P (no trailing slash). */
  url: string;
  requests: FakeRequest[];
  violations: string[];
  store: TxtStore;
  /** When set, answers matching requests instead of the handler (fault injection). */
  fault: ((r: FakeRequest) => FakeReply | undefined) | null;
  /** Records a violation and answers 400 with `why`. */
  reject(why: string, r: FakeRequest): FakeReply;
  stop(): Promise<void>;
}

let ca: { dir: string; caFile: string; cert: string; key: string } | null = null;

/** One CA and a server certificate for 127.0.0.1 per test process (openssl CLI). The CA file is for NODE_EXTRA_CA_CERTS. */
export function fakeTls(): { caFile: string; cert: string; key: string; caPem: string } {
  if (!ca) {
    const dir = mkdtempSync(join(tmpdir(), "acme-renew-fake-tls-"));
    const ext = join(dir, "ext.cnf");
    writeFileSync(ext, "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n");
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    const run = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    run(["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj", "/CN=acme-renew test DNS API CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"]);
    run(["req", "-new", ...ec, "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=localhost"]);
    run(["x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "30", "-sha256", "-extfile", ext, "-out", "srv.pem"]);
    ca = { dir, caFile: join(dir, "ca.pem"), cert: readFileSync(join(dir, "srv.pem"), "utf8"), key: readFileSync(join(dir, "srv.key"), "utf8") };
  }
  return { caFile: ca.caFile, cert: ca.cert, key: ca.key, caPem: readFileSync(ca.caFile, "utf8") };
}

/** Starts a fake API on 127.0.0.1 (HTTPS unless `plain`, for APIs such as acme-dns served over HTTP). */
export async function startFakeApi(handler: Handler, o: { store?: TxtStore; plain?: boolean } = {}): Promise<FakeApi> {
  const tls = fakeTls();
  const fake: FakeApi = {
    url: "",
    requests: [],
    violations: [],
    store: o.store ?? new TxtStore(),
    fault: null,
    reject(why, r) {
      fake.violations.push(`${r.method} ${r.path}: ${why}`);
      return { status: 400, json: { error: why } };
    },
    stop: async () => {},
  };
  const serve = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("end", async () => {
      const u = new URL(req.url ?? "/", "https://fake.invalid");
      const r: FakeRequest = { method: req.method ?? "GET", path: u.pathname, query: u.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      fake.requests.push(r);
      let reply: FakeReply;
      try {
        reply = fake.fault?.(r) ?? (await handler(r, fake));
      } catch (e) {
        reply = e instanceof Rejected ? e.reply : fake.reject(`fake crashed: ${(e as Error).message}`, r);
      }
      const body = reply.body ?? (reply.json !== undefined ? JSON.stringify(reply.json) : "");
      res.writeHead(reply.status ?? 200, { "content-type": reply.json !== undefined ? "application/json" : "text/plain", ...reply.headers });
      res.end(body);
    });
  };
  const server: Server | ReturnType<typeof createHttpServer> = o.plain ? createHttpServer(serve) : createServer({ cert: tls.cert, key: tls.key }, serve);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  fake.url = `${o.plain ? "http" : "https"}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.stop = () =>
    new Promise<void>((r) => {
      server.closeAllConnections?.();
      server.close(() => r());
    });
  return fake;
}

/** Thrown by a handler's checks: the request is not what the documented API accepts. */
export class Rejected extends Error {
  constructor(readonly reply: FakeReply) {
    super("rejected");
  }
}

/** Records a violation and ends the handler with a 400 (or `status`). */
export function refuse(fake: FakeApi, r: FakeRequest, why: string, status = 400): never {
  const reply = fake.reject(why, r);
  throw new Rejected({ ...reply, status });
}

/** The JSON body, or a violation. */
export function jsonBody<T = Record<string, unknown>>(r: FakeRequest, fake: FakeApi): T {
  if (!/^application\/json/.test(String(r.headers["content-type"] ?? ""))) refuse(fake, r, `content-type ${r.headers["content-type"]} is not application/json`);
  try {
    return JSON.parse(r.body) as T;
  } catch {
    return refuse(fake, r, "body is not JSON");
  }
}

/** Checks a header's exact value (401 when it is missing or wrong, as the APIs answer). */
export function requireHeader(fake: FakeApi, r: FakeRequest, name: string, value: string, status = 401): void {
  if (r.headers[name.toLowerCase()] !== value) refuse(fake, r, `header ${name} is ${JSON.stringify(r.headers[name.toLowerCase()])}, expected the configured credential`, status);
}
