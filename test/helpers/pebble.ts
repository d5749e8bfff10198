/**
 * A real ACME CA for tests: Pebble (2.6.0, provisioned by scripts/provision-pebble.sh)
 * plus pebble-challtestsrv as its DNS server, both on loopback only.
 *
 *   const pebble = await startPebble();
 *   // ACME directory: pebble.directoryUrl, trust pebble.caBundle for its TLS
 *   await setTxt(pebble, "_acme-challenge.a.example.com.", "…");
 *   await pebble.stop();
 *
 * Every name resolves (through challtestsrv) to 127.0.0.1, so http-01 is validated
 * against 127.0.0.1:pebble.httpPort and tls-alpn-01 against 127.0.0.1:pebble.tlsPort.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { Resolver } from "node:dns/promises";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { createServer, type AddressInfo, type Server } from "node:net";
import { createSocket } from "node:dgram";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { X509Certificate } from "node:crypto";
import { certIdParts } from "../../src/inspect/der.js";

const ROOT = resolve(import.meta.dirname, "../../..");
const PROVISION = join(ROOT, "scripts/provision-pebble.sh");
const LOOPBACK = "127.0.0.1";

export interface PebbleOptions {
  /** certificateValidityPeriod in seconds (Pebble's default: 157766400 = 5 years). */
  validityPeriodSeconds?: number;
  /** Retry-After seconds Pebble sends on processing authzs/orders (default 0 = no header). */
  retryAfter?: { authz: number; order: number };
  /** External account binding: kid -> base64url (unpadded) HMAC key. Given => EAB required. */
  eab?: Record<string, string>;
  /** Extra environment for pebble (overrides the defaults, e.g. PEBBLE_WFE_NONCEREJECT). */
  env?: Record<string, string>;
  /**
   * Configure certificate profiles ("default" and "shortlived"). Pebble 2.6.0 has no
   * profiles (they came in 2.7.0): startPebble rejects unless the running Pebble
   * (see PEBBLE_BIN) advertises meta.profiles.
   */
  profiles?: boolean;
  /**
   * The DNS server Pebble's VA asks ("host:port"), instead of pebble-challtestsrv (which still runs,
   * for http-01/tls-alpn-01 names and its management API): e.g. a BIND serving the test zone.
   */
  dnsServer?: string;
}

export interface Pebble {
  /** https://127.0.0.1:P/dir */
  directoryUrl: string;
  /** Path of a PEM CA that validates the TLS certificate of Pebble's WFE and management API. */
  caBundle: string;
  /** challtestsrv management API base, http://127.0.0.1:CM */
  challtestsrvUrl: string;
  /** Port on 127.0.0.1 where Pebble validates http-01. */
  httpPort: number;
  /** Port on 127.0.0.1 where Pebble validates tls-alpn-01. */
  tlsPort: number;
  /** challtestsrv DNS port (UDP and TCP) on 127.0.0.1. */
  dnsPort: number;
  /** Pebble's management API base, https://127.0.0.1:M (same TLS cert as the WFE). */
  managementUrl: string;
  /** Temp dir with config and TLS files (removed by stop()). */
  dir: string;
  stop(): Promise<void>;
  /** Pebble's issuing root (regenerated at every start), from the management API /roots/0. */
  rootPem(): Promise<string>;
  /** pebble stdout+stderr so far. */
  log(): string;
}

// ---------------------------------------------------------------------------------------
// Provisioning

let binDir: Promise<string> | null = null;

/** Runs scripts/provision-pebble.sh once per process; resolves to the dir holding the binaries. */
export function pebbleBinDir(): Promise<string> {
  binDir ??= new Promise<string>((res, rej) => {
    execFile(
      "bash",
      [PROVISION],
      { cwd: ROOT, timeout: 300_000, maxBuffer: 16 << 20, env: process.env },
      (err, stdout, stderr) => {
        const dir = stdout.trim().split("\n").filter(Boolean).pop();
        if (err || !dir) {
          rej(new Error(`provision-pebble.sh failed: ${err?.message ?? "no output"}\n${stderr}`));
        } else {
          res(dir);
        }
      },
    );
  });
  binDir.catch(() => (binDir = null)); // let a later call retry
  return binDir;
}

// ---------------------------------------------------------------------------------------
// Small utilities

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a command, bounded in time; rejects with its stderr on failure. */
function run(cmd: string, args: string[], cwd: string, timeoutMs = 30_000): Promise<string> {
  return new Promise((res, rej) => {
    execFile(cmd, args, { cwd, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) rej(new Error(`${cmd} ${args.join(" ")}: ${err.message}\n${stderr}`));
      else res(stdout);
    });
  });
}

/** Generates a CA and a server cert for 127.0.0.1 + localhost with the openssl CLI. */
async function makeTls(dir: string) {
  const caKey = join(dir, "ca-key.pem");
  const caCert = join(dir, "ca.pem");
  const key = join(dir, "wfe-key.pem");
  const csr = join(dir, "wfe.csr");
  const cert = join(dir, "wfe-cert.pem");
  const ext = join(dir, "wfe-ext.cnf");
  writeFileSync(
    ext,
    [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "",
    ].join("\n"),
  );
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await run("openssl", [
    "req", "-x509", ...ec, "-keyout", caKey, "-out", caCert, "-days", "30",
    "-subj", "/CN=acme-renew test Pebble WFE CA",
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ], dir);
  await run("openssl", ["req", "-new", ...ec, "-keyout", key, "-out", csr, "-subj", "/CN=localhost"], dir);
  await run("openssl", [
    "x509", "-req", "-in", csr, "-CA", caCert, "-CAkey", caKey, "-CAcreateserial",
    "-days", "30", "-sha256", "-extfile", ext, "-out", cert,
  ], dir);
  return { caCert, cert, key };
}

/** Is this UDP port free on 127.0.0.1? */
function udpFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createSocket("udp4");
    s.once("error", () => {
      s.close();
      res(false);
    });
    s.bind(port, LOOPBACK, () => s.close(() => res(true)));
  });
}

/**
 * n distinct free TCP ports on 127.0.0.1 (all held open together so they differ);
 * the first one is also free for UDP (for the DNS server).
 */
async function freePorts(n: number): Promise<number[]> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const servers: Server[] = [];
    try {
      for (let i = 0; i < n; i++) {
        const s = createServer();
        servers.push(s);
        await new Promise<void>((res, rej) => {
          s.once("error", rej);
          s.listen(0, LOOPBACK, () => res());
        });
      }
      const ports = servers.map((s) => (s.address() as AddressInfo).port);
      if (await udpFree(ports[0]!)) return ports;
    } finally {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    }
  }
  throw new Error("could not find free loopback ports");
}

interface Got {
  status: number;
  body: string;
}

/** One bounded HTTP(S) request. */
function request(
  url: string,
  o: { method?: string; body?: string; ca?: string; timeoutMs?: number } = {},
): Promise<Got> {
  return new Promise((res, rej) => {
    const u = new URL(url);
    const mod = u.protocol === "https:" ? https : http;
    const req = mod.request(
      u,
      {
        method: o.method ?? "GET",
        ...(o.ca ? { ca: o.ca } : {}),
        headers: o.body !== undefined ? { "content-type": "application/json" } : {},
        timeout: o.timeoutMs ?? 5_000,
        agent: false,
      },
      (resp) => {
        let body = "";
        resp.setEncoding("utf8");
        resp.on("data", (d: string) => (body += d));
        resp.on("end", () => res({ status: resp.statusCode ?? 0, body }));
        resp.on("error", rej);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timeout: ${o.method ?? "GET"} ${url}`)));
    req.on("error", rej);
    req.end(o.body);
  });
}

// ---------------------------------------------------------------------------------------
// Child processes

interface Proc {
  child: ChildProcess;
  out: () => string;
  exited: Promise<void>;
  isExited: () => boolean;
}

const live = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const c of live) {
      try {
        c.kill("SIGKILL");
      } catch {
        /* already gone */
      }
    }
    if (!process.env.PEBBLE_KEEP_DIR) {
      for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
    }
  });
}

function startProc(bin: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Proc {
  installExitHook();
  const child = spawn(bin, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  let out = "";
  let exited = false;
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (d: string) => (out += d));
  child.stderr!.on("data", (d: string) => (out += d));
  const done = new Promise<void>((r) => {
    child.once("error", (e) => {
      out += `\n[spawn error] ${e.message}\n`;
      exited = true;
      live.delete(child);
      r();
    });
    child.once("exit", (code, signal) => {
      out += `\n[exited code=${code} signal=${signal}]\n`;
      exited = true;
      live.delete(child);
      r();
    });
  });
  // A test that forgets stop() must not keep its process alive: the exit hook kills them.
  child.unref();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stderr as unknown as { unref?: () => void }).unref?.();
  return { child, out: () => out, exited: done, isExited: () => exited };
}

/** SIGTERM, then SIGKILL after 2 s; resolves when gone (bounded). */
async function killProc(p: Proc): Promise<void> {
  if (p.isExited()) return;
  p.child.kill("SIGTERM");
  const t = await Promise.race([p.exited.then(() => "exited"), sleep(2_000).then(() => "timeout")]);
  if (t === "timeout" && !p.isExited()) {
    p.child.kill("SIGKILL");
    await Promise.race([p.exited, sleep(3_000)]);
  }
}

// ---------------------------------------------------------------------------------------
// Start / stop

const READY_TIMEOUT_MS = 15_000;

export async function startPebble(opts: PebbleOptions = {}): Promise<Pebble> {
  const bin = await pebbleBinDir();
  let lastErr: unknown;
  // A port picked as free can be taken by someone else before Pebble binds it: retry.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(bin, opts);
    } catch (e) {
      lastErr = e;
      if (e instanceof NotRetryable) throw e;
    }
  }
  throw lastErr;
}

class NotRetryable extends Error {}

async function startOnce(bin: string, opts: PebbleOptions): Promise<Pebble> {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), "pebble-"));
  liveDirs.add(dir);
  let tls: Awaited<ReturnType<typeof makeTls>>;
  let ports: number[];
  try {
    tls = await makeTls(dir);
    ports = await freePorts(6);
  } catch (e) {
    liveDirs.delete(dir);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const ca = readFileSync(tls.caCert, "utf8");
  const [dnsPort, wfePort, mgmtPort, httpPort, tlsPort, ctsMgmtPort] = ports as [
    number, number, number, number, number, number,
  ];

  const profiles = opts.profiles
    ? {
        default: {
          description: "default profile",
          validityPeriod: opts.validityPeriodSeconds ?? 7_776_000,
        },
        shortlived: { description: "short-lived profile", validityPeriod: 518_400 },
      }
    : undefined;
  const config = {
    pebble: {
      listenAddress: `${LOOPBACK}:${wfePort}`,
      managementListenAddress: `${LOOPBACK}:${mgmtPort}`,
      certificate: tls.cert,
      privateKey: tls.key,
      httpPort,
      tlsPort,
      ocspResponderURL: "",
      externalAccountBindingRequired: opts.eab !== undefined,
      externalAccountMACKeys: opts.eab ?? {},
      retryAfter: { authz: opts.retryAfter?.authz ?? 0, order: opts.retryAfter?.order ?? 0 },
      ...(opts.validityPeriodSeconds !== undefined
        ? { certificateValidityPeriod: opts.validityPeriodSeconds }
        : {}),
      ...(profiles ? { profiles } : {}),
    },
  };
  const configFile = join(dir, "pebble-config.json");
  writeFileSync(configFile, JSON.stringify(config, null, 2));

  const baseEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir };
  const cts = startProc(
    join(bin, "pebble-challtestsrv"),
    [
      "-defaultIPv4", LOOPBACK,
      "-defaultIPv6", "",
      "-dns01", `${LOOPBACK}:${dnsPort}`,
      "-management", `${LOOPBACK}:${ctsMgmtPort}`,
      "-http01", "",
      "-https01", "",
      "-tlsalpn01", "",
      "-doh", "",
    ],
    baseEnv,
    dir,
  );
  const pebble = startProc(
    join(bin, "pebble"),
    ["-config", configFile, "-dnsserver", opts.dnsServer ?? `${LOOPBACK}:${dnsPort}`],
    {
      ...baseEnv,
      PEBBLE_VA_NOSLEEP: "1",
      PEBBLE_WFE_NONCEREJECT: "0",
      // The minimum; Pebble 2.6.0 still reuses a valid authorization of the same account 1 time in
      // 100 (see withChallenge() in test/reliability/setup.ts).
      PEBBLE_AUTHZREUSE: "0",
      ...opts.env,
    },
    dir,
  );

  const directoryUrl = `https://${LOOPBACK}:${wfePort}/dir`;
  const managementUrl = `https://${LOOPBACK}:${mgmtPort}`;
  const challtestsrvUrl = `http://${LOOPBACK}:${ctsMgmtPort}`;

  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      await Promise.all([killProc(pebble), killProc(cts)]);
      liveDirs.delete(dir);
      if (!process.env.PEBBLE_KEEP_DIR) rmSync(dir, { recursive: true, force: true });
    })());

  try {
    await waitReady({ pebble, cts, directoryUrl, challtestsrvUrl, dnsPort, ca });
  } catch (e) {
    const msg =
      `${(e as Error).message}\n--- pebble ---\n${pebble.out()}\n--- challtestsrv ---\n${cts.out()}`;
    await stop();
    throw new Error(msg);
  }

  if (opts.profiles) {
    const d = JSON.parse((await request(directoryUrl, { ca })).body) as { meta?: { profiles?: unknown } };
    if (!d.meta?.profiles) {
      await stop();
      throw new NotRetryable(
        "this Pebble does not support certificate profiles (2.6.0 has none; they came in 2.7.0): " +
          "point PEBBLE_BIN at a newer Pebble",
      );
    }
  }

  return {
    directoryUrl,
    caBundle: tls.caCert,
    challtestsrvUrl,
    httpPort,
    tlsPort,
    dnsPort,
    managementUrl,
    dir,
    stop,
    async rootPem() {
      const r = await request(`${managementUrl}/roots/0`, { ca });
      if (r.status !== 200) throw new Error(`GET /roots/0: HTTP ${r.status}: ${r.body}`);
      return r.body;
    },
    log: () => pebble.out(),
  };
}

async function waitReady(a: {
  pebble: Proc;
  cts: Proc;
  directoryUrl: string;
  challtestsrvUrl: string;
  dnsPort: number;
  ca: string;
}): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let dirOk = false;
  let ctsOk = false;
  let dnsOk = false;
  let last = "";
  const resolver = new Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([`${LOOPBACK}:${a.dnsPort}`]);
  while (Date.now() < deadline) {
    if (a.pebble.isExited()) throw new Error("pebble exited during startup");
    if (a.cts.isExited()) throw new Error("pebble-challtestsrv exited during startup");
    try {
      if (!dirOk) {
        const r = await request(a.directoryUrl, { ca: a.ca, timeoutMs: 1_000 });
        dirOk = r.status === 200 && r.body.includes("newOrder");
        if (!dirOk) last = `directory: HTTP ${r.status}`;
      }
      if (!ctsOk) {
        // Any HTTP answer means the management server is up (it has no "/" handler).
        await request(`${a.challtestsrvUrl}/`, { timeoutMs: 1_000 });
        ctsOk = true;
      }
      if (!dnsOk) {
        // challtestsrv answers every A query with -defaultIPv4.
        const ips = await resolver.resolve4("pebble-ready.test");
        dnsOk = ips.includes(LOOPBACK);
      }
      if (dirOk && ctsOk && dnsOk) return;
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(100);
  }
  throw new Error(
    `Pebble not ready within ${READY_TIMEOUT_MS} ms (directory=${dirOk} challtestsrv=${ctsOk} dns=${dnsOk}; last: ${last})`,
  );
}

// ---------------------------------------------------------------------------------------
// challtestsrv management API

async function cts(pebble: Pick<Pebble, "challtestsrvUrl">, path: string, body: object): Promise<void> {
  const r = await request(`${pebble.challtestsrvUrl}${path}`, {
    method: "POST",
    body: JSON.stringify(body),
  });
  if (r.status !== 200) throw new Error(`challtestsrv ${path}: HTTP ${r.status}: ${r.body}`);
}

/** Adds a TXT record value for host (FQDN with trailing dot, e.g. "_acme-challenge.a.example.com."). */
export function setTxt(pebble: Pick<Pebble, "challtestsrvUrl">, host: string, value: string): Promise<void> {
  return cts(pebble, "/set-txt", { host, value });
}

/** Removes all TXT record values for host (FQDN with trailing dot). */
export function clearTxt(pebble: Pick<Pebble, "challtestsrvUrl">, host: string): Promise<void> {
  return cts(pebble, "/clear-txt", { host });
}

/** A CNAME in challtestsrv (it follows one level when answering), e.g. for acme-dns delegations. */
export function setCname(pebble: Pick<Pebble, "challtestsrvUrl">, host: string, target: string): Promise<void> {
  return cts(pebble, "/set-cname", { host, target });
}

/**
 * Pebble 2.6.0 cannot find the order of a `replaces` certificate whose serial's DER octets begin with
 * 0x00 (a 7-byte serial with its top bit set, about 1 in 256): it looks the order up by the hex of those
 * octets (core/types.go NewCertID) but keyed it by the serial's value (ca/ca.go), and answers 500
 * "could not find order resulting in the given certificate serial number". acme-renew then orders
 * without replaces, as it must; tests that expect replaces to be accepted issue such a certificate
 * again (`run --force`, at most 5 times) through this.
 */
export async function replaceableByPebble(s: { stateDir: string; cli: (args: string[]) => Promise<{ code: number | null; stderr: string }> }, name: string): Promise<void> {
  const file = join(s.stateDir, name, "cert.pem");
  const cannot = () => certIdParts(new Uint8Array(new X509Certificate(readFileSync(file)).raw)).serial[0] === 0;
  for (let i = 0; i < 5 && cannot(); i++) {
    const r = await s.cli(["run", name, "--force"]);
    if (r.code !== 0) throw new Error(`issuing ${name} again for Pebble: exit ${r.code}\n${r.stderr}`);
  }
  if (cannot()) throw new Error(`${name}: Pebble issued 6 serials it cannot look up in a row`);
}
