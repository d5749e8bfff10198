/**
 * A real etcd 3.5 cluster for tests: 3 members (by default) on loopback, provisioned by
 * scripts/provision-etcd.sh, each with its own temp data dir and free high ports.
 *
 *   const c = await startEtcdCluster({ tls: true, auth: true });
 *   // c.endpoints, c.tls?.caFile, c.auth?.user / password
 *   await c.stopMember(1); await c.stopMember(2);   // quorum lost
 *   await c.startMember(1);                         // quorum back
 *   await c.stop();
 *
 * TLS (openssl-made CA; server certificates for 127.0.0.1 used for client and peer traffic, with
 * client-certificate authentication) and auth (root user + a user whose role may only read and
 * write under one prefix) are options. Everything is bounded in time.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../../..");
const PROVISION = join(ROOT, "scripts/provision-etcd.sh");
const LOOPBACK = "127.0.0.1";
const READY_TIMEOUT_MS = 30_000;

export interface EtcdClusterOptions {
  /** Number of members (default 3). */
  members?: number;
  /** TLS for client and peer traffic, with client certificates required. */
  tls?: boolean;
  /** Enable auth: a root user and a user limited to `prefix` (default "/acme-renew/"). */
  auth?: boolean | { prefix?: string };
  /** More etcd flags for every member (e.g. "--auth-token-ttl=2"). */
  extraArgs?: string[];
}

export interface EtcdTls {
  caFile: string;
  /** A client certificate + key signed by the CA (no CommonName, see makeTls). */
  certFile: string;
  keyFile: string;
  ca: string;
  cert: string;
  key: string;
}

export interface EtcdAuth {
  rootPassword: string;
  user: string;
  password: string;
  /** The key prefix the user's role may read and write. */
  prefix: string;
  usernameFile: string;
  passwordFile: string;
}

export interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  pid(): number | undefined;
  running(): boolean;
  log(): string;
}

export interface EtcdCluster {
  endpoints: string[];
  members: EtcdMember[];
  tls: EtcdTls | null;
  auth: EtcdAuth | null;
  dir: string;
  /** SIGKILL one member (waits until it is gone). */
  killMember(i: number): Promise<void>;
  /** SIGTERM one member (SIGKILL after 5 s). */
  stopMember(i: number): Promise<void>;
  /** Restart a stopped/killed member on its data dir; waits until it answers /health (unless `wait: false`). */
  startMember(i: number, o?: { wait?: boolean }): Promise<void>;
  /** SIGSTOP / SIGCONT one member. */
  pauseMember(i: number): void;
  resumeMember(i: number): void;
  /** Index of the leader all running members agree on, or -1 (none, or an election under way). */
  leader(): Promise<number>;
  /** Waits until all running members agree on a running leader (bounded). */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** etcdctl against the cluster as root (auth) with the cluster's TLS; resolves to stdout. */
  etcdctl(args: string[], timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------
// Provisioning

let binDir: Promise<string> | null = null;

/** Runs scripts/provision-etcd.sh once per process; resolves to the dir holding etcd + etcdctl. */
export function etcdBinDir(): Promise<string> {
  binDir ??= new Promise<string>((res, rej) => {
    execFile("bash", [PROVISION], { cwd: ROOT, timeout: 300_000, maxBuffer: 16 << 20, env: process.env }, (err, stdout, stderr) => {
      const dir = stdout.trim().split("\n").filter(Boolean).pop();
      if (err || !dir) rej(new Error(`provision-etcd.sh failed: ${err?.message ?? "no output"}\n${stderr}`));
      else res(dir);
    });
  });
  binDir.catch(() => (binDir = null));
  return binDir;
}

// ---------------------------------------------------------------------------------------
// Utilities

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function run(cmd: string, args: string[], o: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((res, rej) => {
    execFile(cmd, args, { cwd: o.cwd, timeout: o.timeoutMs ?? 30_000, env: o.env ?? process.env }, (err, stdout, stderr) => {
      if (err) rej(new Error(`${cmd} ${args.join(" ")}: ${err.message}\n${stderr}`));
      else res(stdout);
    });
  });
}

/** n distinct free TCP ports on 127.0.0.1, all held open together so they differ. */
async function freePorts(n: number): Promise<number[]> {
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
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

/** A CA, one server/peer certificate for 127.0.0.1 + localhost, one client certificate. */
async function makeTls(dir: string): Promise<EtcdTls> {
  const f = (n: string) => join(dir, n);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await run("openssl", ["req", "-x509", ...ec, "-keyout", f("ca-key.pem"), "-out", f("ca.pem"), "-days", "30", "-subj", "/CN=acme-renew test etcd CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], { cwd: dir });
  const leaf = async (name: string, subject: string, ext: string[]) => {
    writeFileSync(f(`${name}.cnf`), ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment", ...ext, ""].join("\n"));
    await run("openssl", ["req", "-new", ...ec, "-keyout", f(`${name}-key.pem`), "-out", f(`${name}.csr`), "-subj", subject], { cwd: dir });
    await run("openssl", ["x509", "-req", "-in", f(`${name}.csr`), "-CA", f("ca.pem"), "-CAkey", f("ca-key.pem"), "-CAcreateserial", "-days", "30", "-sha256", "-extfile", f(`${name}.cnf`), "-out", f(`${name}.pem`)], { cwd: dir });
  };
  // Peers present their server certificate as a client certificate too: both EKUs.
  await leaf("server", "/CN=etcd", ["extendedKeyUsage=serverAuth,clientAuth", "subjectAltName=IP:127.0.0.1,DNS:localhost"]);
  // No CommonName: with client-cert-auth and auth on, etcd's JSON gateway refuses a client
  // certificate that has one (a CN would be an identity the gateway cannot pass on).
  await leaf("client", "/O=acme-renew test client", ["extendedKeyUsage=clientAuth"]);
  return {
    caFile: f("ca.pem"),
    certFile: f("client.pem"),
    keyFile: f("client-key.pem"),
    ca: readFileSync(f("ca.pem"), "utf8"),
    cert: readFileSync(f("client.pem"), "utf8"),
    key: readFileSync(f("client-key.pem"), "utf8"),
  };
}

/** One bounded JSON POST to a member's v3 gateway (used for health and leader checks only). */
function post(url: string, body: object, tls: EtcdTls | null, timeoutMs = 2_000, token?: string): Promise<{ status: number; json: any }> {
  return new Promise((res, rej) => {
    const u = new URL(url);
    const headers: Record<string, string> = { "content-type": "application/json", "grpc-metadata-hasleader": "true", ...(token ? { authorization: token } : {}) };
    const opts = { method: "POST", timeout: timeoutMs, agent: false as const, headers, ...(tls ? { ca: tls.ca, cert: tls.cert, key: tls.key } : {}) };
    const req = (u.protocol === "https:" ? https : http).request(u, opts, (r) => {
      let s = "";
      r.setEncoding("utf8");
      r.on("data", (d: string) => (s += d));
      r.on("end", () => {
        try {
          res({ status: r.statusCode ?? 0, json: JSON.parse(s) });
        } catch {
          res({ status: r.statusCode ?? 0, json: null });
        }
      });
      r.on("error", rej);
    });
    req.on("timeout", () => req.destroy(new Error(`timeout: ${url}`)));
    req.on("error", rej);
    req.end(JSON.stringify(body));
  });
}

// ---------------------------------------------------------------------------------------
// Processes

const live = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHook = false;
function installExitHook() {
  if (exitHook) return;
  exitHook = true;
  process.on("exit", () => {
    for (const c of live) {
      try {
        c.kill("SIGKILL"); // also ends a SIGSTOPped member
      } catch {
        /* gone */
      }
    }
    if (!process.env.ETCD_KEEP_DIR) for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
  });
}

interface Proc {
  child: ChildProcess;
  exited: Promise<void>;
  done: boolean;
}

const LOG_CAP = 256 * 1024;

// ---------------------------------------------------------------------------------------
// Cluster

export async function startEtcdCluster(o: EtcdClusterOptions = {}): Promise<EtcdCluster> {
  const bin = await etcdBinDir();
  let last: unknown;
  // A port picked as free can be taken before etcd binds it: retry with new ports.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(bin, o);
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

async function startOnce(bin: string, o: EtcdClusterOptions): Promise<EtcdCluster> {
  installExitHook();
  const n = o.members ?? 3;
  const dir = mkdtempSync(join(tmpdir(), "etcd-"));
  liveDirs.add(dir);
  const tls = o.tls ? await makeTls(dir) : null;
  const scheme = tls ? "https" : "http";
  const ports = await freePorts(2 * n);
  const members = Array.from({ length: n }, (_, i) => ({
    name: `m${i}`,
    clientUrl: `${scheme}://${LOOPBACK}:${ports[2 * i]}`,
    peerUrl: `${scheme}://${LOOPBACK}:${ports[2 * i + 1]}`,
    dataDir: join(dir, `m${i}`),
  }));
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(",");
  const procs: Array<Proc | null> = members.map(() => null);
  const logs: string[] = members.map(() => "");

  const argsOf = (i: number) => {
    const m = members[i]!;
    const a = [
      "--name", m.name,
      "--data-dir", m.dataDir,
      "--listen-client-urls", m.clientUrl,
      "--advertise-client-urls", m.clientUrl,
      "--listen-peer-urls", m.peerUrl,
      "--initial-advertise-peer-urls", m.peerUrl,
      "--initial-cluster", initialCluster,
      "--initial-cluster-state", "new",
      "--initial-cluster-token", `acme-renew-test-${process.pid}`,
      // Defaults (100/1000 ms): shorter elections would flap on a loaded 2-core machine.
      "--heartbeat-interval", "100",
      "--election-timeout", "1000",
      // Test data only: no fsync (a killed member keeps its writes in the page cache anyway).
      "--unsafe-no-fsync",
      "--log-level", "warn",
      "--logger", "zap",
      "--log-outputs", "stderr",
      ...(o.extraArgs ?? []),
    ];
    if (tls) {
      a.push("--cert-file", join(dir, "server.pem"), "--key-file", join(dir, "server-key.pem"), "--trusted-ca-file", tls.caFile, "--client-cert-auth");
      a.push("--peer-cert-file", join(dir, "server.pem"), "--peer-key-file", join(dir, "server-key.pem"), "--peer-trusted-ca-file", tls.caFile, "--peer-client-cert-auth");
    }
    return a;
  };

  const spawnMember = (i: number) => {
    mkdirSync(members[i]!.dataDir, { recursive: true, mode: 0o700 });
    const child = spawn(join(bin, "etcd"), argsOf(i), { cwd: dir, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir }, stdio: ["ignore", "pipe", "pipe"] });
    live.add(child);
    const p: Proc = { child, done: false, exited: Promise.resolve() };
    const add = (d: string) => {
      logs[i] = (logs[i]! + d).slice(-LOG_CAP);
    };
    child.stdout!.setEncoding("utf8").on("data", add);
    child.stderr!.setEncoding("utf8").on("data", add);
    p.exited = new Promise<void>((r) => {
      const end = (what: string) => {
        add(`\n[${what}]\n`);
        p.done = true;
        live.delete(child);
        r();
      };
      child.once("error", (e) => end(`spawn error ${e.message}`));
      child.once("exit", (code, sig) => end(`exited code=${code} signal=${sig}`));
    });
    child.unref();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
    (child.stderr as unknown as { unref?: () => void }).unref?.();
    procs[i] = p;
  };

  const stoppedOnPurpose = new Set<number>();
  const endMember = async (i: number, signal: NodeJS.Signals) => {
    const p = procs[i];
    if (!p || p.done) return;
    stoppedOnPurpose.add(i);
    if (signal === "SIGTERM") p.child.kill("SIGCONT"); // a paused member cannot act on TERM
    p.child.kill(signal);
    const r = await Promise.race([p.exited.then(() => "gone"), sleep(5_000).then(() => "slow")]);
    if (r === "slow" && !p.done) {
      p.child.kill("SIGKILL");
      await Promise.race([p.exited, sleep(5_000)]);
    }
  };

  const statusOf = async (i: number): Promise<{ id: string; leader: string } | null> => {
    try {
      const r = await post(`${members[i]!.clientUrl}/v3/maintenance/status`, {}, tls, 1_500);
      const id = r.json?.header?.member_id;
      const leader = r.json?.leader;
      return r.status === 200 && typeof id === "string" && typeof leader === "string" ? { id, leader } : null;
    } catch {
      return null;
    }
  };

  /** The index of the leader all running members agree on (a running member itself), or -1. */
  const leader = async (): Promise<number> => {
    const running = members.map((_, i) => i).filter((i) => procs[i] && !procs[i]!.done);
    const st = await Promise.all(running.map(statusOf));
    if (st.some((x) => x === null)) return -1;
    const ids = st.map((x) => x!.id);
    const l = st[0]!.leader;
    if (l === "0" || !st.every((x) => x!.leader === l)) return -1;
    const k = ids.indexOf(l);
    return k < 0 ? -1 : running[k]!;
  };

  /** Every running member commits a write (right after an election a member can still say "no leader"). */
  const writable = async (): Promise<boolean> => {
    const running = members.map((_, i) => i).filter((i) => procs[i] && !procs[i]!.done);
    let token: string | undefined;
    if (auth) {
      const r = await post(`${members[running[0]!]!.clientUrl}/v3/auth/authenticate`, { name: "root", password: auth.rootPassword }, tls, 3_000).catch(() => null);
      if (typeof r?.json?.token !== "string") return false;
      token = r.json.token;
    }
    const ok = await Promise.all(running.map((i) => post(`${members[i]!.clientUrl}/v3/kv/put`, { key: Buffer.from("/__test_health").toString("base64"), value: "" }, tls, 3_000, token).then((r) => r.status === 200 && r.json?.header !== undefined, () => false)));
    return ok.every(Boolean);
  };

  const waitHealthy = async (timeoutMs = READY_TIMEOUT_MS) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const dead = members.findIndex((_, i) => procs[i]?.done && !stoppedOnPurpose.has(i));
      if (dead >= 0) throw new Error(`etcd member ${members[dead]!.name} exited:\n${logs[dead]}`);
      if ((await leader()) >= 0 && (await writable())) return;
      if (Date.now() > deadline) throw new Error(`etcd has no leader that all running members agree on within ${timeoutMs} ms\n${members.map((m, i) => `--- ${m.name} ---\n${logs[i]!.slice(-4000)}`).join("\n")}`);
      await sleep(150);
    }
  };

  let auth: EtcdAuth | null = null;
  const etcdctl = async (args: string[], timeoutMs = 15_000) => {
    const a = [`--endpoints=${members.map((m) => m.clientUrl).join(",")}`, "--dial-timeout=3s", "--command-timeout=5s"];
    if (tls) a.push(`--cacert=${tls.caFile}`, `--cert=${tls.certFile}`, `--key=${tls.keyFile}`);
    if (auth) a.push(`--user=root:${auth.rootPassword}`);
    return run(join(bin, "etcdctl"), [...a, ...args], { timeoutMs, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ETCDCTL_API: "3" } });
  };

  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      // SIGKILL: the data is thrown away, and members stopped together with SIGTERM wait for each other.
      await Promise.all(members.map((_, i) => endMember(i, "SIGKILL")));
      liveDirs.delete(dir);
      if (!process.env.ETCD_KEEP_DIR) rmSync(dir, { recursive: true, force: true });
    })());

  try {
    members.forEach((_, i) => spawnMember(i));
    await waitHealthy();
    if (o.auth) {
      const prefix = (typeof o.auth === "object" && o.auth.prefix) || "/acme-renew/";
      const pw = () => `pw-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;
      const a: EtcdAuth = { rootPassword: pw(), user: "acme", password: pw(), prefix, usernameFile: join(dir, "etcd-user"), passwordFile: join(dir, "etcd-password") };
      writeFileSync(a.usernameFile, `${a.user}\n`, { mode: 0o600 });
      writeFileSync(a.passwordFile, `${a.password}\n`, { mode: 0o600 });
      await etcdctl(["user", "add", "root", `--new-user-password=${a.rootPassword}`, "--interactive=false"]);
      await etcdctl(["user", "grant-role", "root", "root"]);
      await etcdctl(["role", "add", "acme-renew"]);
      await etcdctl(["role", "grant-permission", "acme-renew", "--prefix=true", "readwrite", prefix]);
      await etcdctl(["user", "add", a.user, `--new-user-password=${a.password}`, "--interactive=false"]);
      await etcdctl(["user", "grant-role", a.user, "acme-renew"]);
      await etcdctl(["auth", "enable"]);
      auth = a;
    }
  } catch (e) {
    const msg = `${(e as Error).message}\n${members.map((m, i) => `--- ${m.name} ---\n${logs[i]!.slice(-4000)}`).join("\n")}`;
    await stop();
    throw new Error(msg);
  }

  return {
    endpoints: members.map((m) => m.clientUrl),
    members: members.map((m, i) => ({
      name: m.name,
      clientUrl: m.clientUrl,
      peerUrl: m.peerUrl,
      pid: () => (procs[i] && !procs[i]!.done ? procs[i]!.child.pid : undefined),
      running: () => !!procs[i] && !procs[i]!.done,
      log: () => logs[i]!,
    })),
    tls,
    get auth() {
      return auth;
    },
    dir,
    killMember: (i) => endMember(i, "SIGKILL"),
    stopMember: (i) => endMember(i, "SIGTERM"),
    async startMember(i, so = {}) {
      if (procs[i] && !procs[i]!.done) return;
      stoppedOnPurpose.delete(i);
      spawnMember(i);
      if (so.wait !== false) await waitHealthy();
    },
    pauseMember: (i) => void procs[i]?.child.kill("SIGSTOP"),
    resumeMember: (i) => void procs[i]?.child.kill("SIGCONT"),
    leader,
    waitHealthy: (t) => waitHealthy(t),
    etcdctl,
    stop,
  };
}
