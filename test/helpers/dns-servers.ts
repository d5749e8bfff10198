/**
 * Real DNS servers for tests: BIND 9 (`named`) and Knot DNS (`knotd`) from Debian, started in a temp
 * dir on a loopback address and a high port, in the foreground, bounded in time, stopped by stop()
 * (and killed when the test process exits). Nothing of the system's services is used. BIND listens
 * only on addresses configured on an interface (127.0.0.1); Knot binds any (127.0.0.2 …).
 *
 *   const port = await freeDnsPort(["127.0.0.1", "127.0.0.2"]);
 *   const bind = await startBind({ address: "127.0.0.1", port, zones: [zone("example.test", …)], keys });
 *   await bind.stop();
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ALGORITHMS = ["hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512"] as const;
export type Algorithm = (typeof ALGORITHMS)[number];
const KEY_BYTES: Record<Algorithm, number> = { "hmac-sha1": 20, "hmac-sha224": 28, "hmac-sha256": 32, "hmac-sha384": 48, "hmac-sha512": 64 };

export interface TsigKeyDef {
  name: string;
  algorithm: Algorithm;
  secret: string;
}

export function newKey(name: string, algorithm: Algorithm): TsigKeyDef {
  return { name, algorithm, secret: randomBytes(KEY_BYTES[algorithm]).toString("base64") };
}

export interface ZoneDef {
  name: string;
  /** Records after the SOA, in zone-file syntax relative to the origin. */
  records: string[];
  /** Negative-caching TTL (SOA minimum), seconds. */
  minimum?: number;
  /** Keys allowed to update TXT records anywhere in the zone. */
  updateKeys?: string[];
  /** Knot: a secondary of this primary (address@port); the zone file is then not written. */
  primary?: { address: string; port: number };
}

export function zoneFile(z: ZoneDef): string {
  return [
    `$ORIGIN ${z.name}.`,
    "$TTL 60",
    // The SOA's own TTL bounds negative caching too (RFC 2308): 3600, so that `minimum` decides.
    `@ 3600 IN SOA ns1.${z.name}. hostmaster.${z.name}. 1 3600 600 86400 ${z.minimum ?? 5}`,
    ...z.records,
    "",
  ].join("\n");
}

export interface DnsServerHandle {
  kind: "bind" | "knot";
  address: string;
  port: number;
  dir: string;
  /** "127.0.0.1:5353" */
  hostPort: string;
  log(): string;
  stop(): Promise<void>;
  /** Knot: knotc with this server's control socket. */
  control?(args: string[]): Promise<string>;
}

const live = new Set<ChildProcess>();
let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  process.on("exit", () => {
    for (const c of live) {
      try {
        c.kill("SIGKILL");
      } catch {
        /* gone */
      }
    }
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function bindable(address: string, port: number): Promise<boolean> {
  return new Promise((res) => {
    const t = createServer();
    t.once("error", () => res(false));
    t.listen(port, address, () => {
      const u = createSocket("udp4");
      u.once("error", () => {
        u.close();
        t.close(() => res(false));
      });
      u.bind(port, address, () => u.close(() => t.close(() => res(true))));
    });
  });
}

/** A port free for TCP and UDP on every one of `addresses` (the tests' name servers share one port). */
export async function freeDnsPort(addresses: string[]): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    let ok = true;
    for (const a of addresses) if (!(await bindable(a, port))) ok = false;
    if (ok) return port;
  }
  throw new Error("no free DNS port on loopback");
}

function run(cmd: string, args: string[], timeoutMs = 15_000): Promise<string> {
  return new Promise((res, rej) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => (err ? rej(new Error(`${cmd} ${args.join(" ")}: ${err.message}\n${stderr}`)) : res(stdout)));
  });
}

/** kdig (Knot's dig): the answer section of one query, `+short`. */
export async function dig(server: { address: string; port: number }, name: string, type: string, extra: string[] = []): Promise<string[]> {
  const out = await run("kdig", [`@${server.address}`, "-p", String(server.port), "+short", "+timeout=2", "+retry=1", ...extra, name, type]);
  return out.split("\n").map((l) => l.trim()).filter(Boolean);
}

/** The full kdig answer (status line included), for rcode checks. */
export async function digStatus(server: { address: string; port: number }, name: string, type: string, extra: string[] = []): Promise<string> {
  const out = await run("kdig", [`@${server.address}`, "-p", String(server.port), "+timeout=2", "+retry=1", ...extra, name, type]);
  return /status: (\w+)/.exec(out)?.[1] ?? "?";
}

function startProc(cmd: string, args: string[], dir: string): { child: ChildProcess; out: () => string; exited: () => boolean; done: Promise<void> } {
  hookExit();
  const child = spawn(cmd, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
  live.add(child);
  let out = "";
  let exited = false;
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const done = new Promise<void>((r) =>
    child.once("exit", (code, sig) => {
      exited = true;
      live.delete(child);
      out += `\n[exited code=${code} signal=${sig}]\n`;
      r();
    }),
  );
  child.unref();
  return { child, out: () => out, exited: () => exited, done };
}

async function waitServing(p: ReturnType<typeof startProc>, address: string, port: number, zone: string, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  let last = "";
  while (Date.now() < deadline) {
    if (p.exited()) throw new Error(`${what} exited during startup:\n${p.out()}`);
    try {
      const soa = await dig({ address, port }, zone, "SOA");
      if (soa.length) return;
      last = "no SOA yet";
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`${what} not serving ${zone} within 20 s (${last}):\n${p.out()}`);
}

async function stopProc(p: ReturnType<typeof startProc>, dir: string): Promise<void> {
  if (!p.exited()) {
    p.child.kill("SIGTERM");
    await Promise.race([p.done, sleep(5_000)]);
    if (!p.exited()) {
      p.child.kill("SIGKILL");
      await Promise.race([p.done, sleep(3_000)]);
    }
  }
  if (!process.env.DNS_KEEP_DIR) rmSync(dir, { recursive: true, force: true });
}

export interface BindOptions {
  address: string;
  port: number;
  zones: ZoneDef[];
  keys?: TsigKeyDef[];
  /** A recursive resolver instead: forward these zones to these servers (and refuse the rest). */
  forward?: Array<{ zone: string; to: Array<{ address: string; port: number }> }>;
  /** Send NOTIFY to secondaries (default: off, so that a secondary refreshes only when told). */
  notify?: boolean;
}

export async function startBind(o: BindOptions): Promise<DnsServerHandle> {
  const dir = mkdtempSync(join(tmpdir(), "acme-renew-bind-"));
  const keys = (o.keys ?? []).map((k) => `key "${k.name}" { algorithm ${k.algorithm}; secret "${k.secret}"; };`);
  const zones = o.zones.map((z) => {
    writeFileSync(join(dir, `${z.name}.db`), zoneFile(z));
    const policy = z.updateKeys?.length ? `update-policy { ${z.updateKeys.map((k) => `grant "${k}" zonesub TXT;`).join(" ")} };` : "";
    return `zone "${z.name}" { type primary; file "${join(dir, `${z.name}.db`)}"; ${policy} allow-transfer { any; }; };`;
  });
  const forwards = (o.forward ?? []).map((f) => `zone "${f.zone}" { type forward; forward only; forwarders { ${f.to.map((t) => `${t.address} port ${t.port};`).join(" ")} }; };`);
  const recursive = !!o.forward?.length;
  writeFileSync(
    join(dir, "named.conf"),
    [
      "options {",
      `  directory "${dir}";`,
      `  pid-file "${join(dir, "named.pid")}";`,
      `  session-keyfile "${join(dir, "session.key")}";`,
      `  managed-keys-directory "${dir}";`,
      `  listen-on port ${o.port} { ${o.address}; };`,
      "  listen-on-v6 { none; };",
      `  recursion ${recursive ? "yes" : "no"};`,
      recursive ? "  allow-recursion { any; };" : "",
      "  allow-query { any; };",
      "  dnssec-validation no;",
      `  notify ${o.notify ? "explicit" : "no"};`,
      "  querylog no;",
      "};",
      recursive ? `zone "." { type hint; file "/dev/null"; };` : "",
      "controls { };",
      ...keys,
      ...zones,
      ...forwards,
      "",
    ].join("\n"),
  );
  const p = startProc("named", ["-g", "-4", "-c", join(dir, "named.conf")], dir);
  const probe = o.zones[0]?.name ?? o.forward?.[0]?.zone ?? ".";
  try {
    await waitServing(p, o.address, o.port, probe, "named");
  } catch (e) {
    await stopProc(p, dir);
    throw e;
  }
  return { kind: "bind", address: o.address, port: o.port, dir, hostPort: `${o.address}:${o.port}`, log: p.out, stop: () => stopProc(p, dir) };
}

export interface KnotOptions {
  address: string;
  port: number;
  zones: ZoneDef[];
  keys?: TsigKeyDef[];
}

export async function startKnot(o: KnotOptions): Promise<DnsServerHandle> {
  const dir = mkdtempSync(join(tmpdir(), "acme-renew-knot-"));
  const keys = o.keys ?? [];
  const lines = [
    "server:",
    `  rundir: "${dir}"`,
    `  listen: ${o.address}@${o.port}`,
    "log:",
    "  - target: stderr",
    "    any: info",
    "database:",
    `  storage: "${dir}"`,
    "control:",
    `  listen: "${join(dir, "knot.sock")}"`,
  ];
  if (keys.length) {
    lines.push("key:");
    for (const k of keys) lines.push(`  - id: ${k.name}`, `    algorithm: ${k.algorithm}`, `    secret: ${k.secret}`);
  }
  const remotes = o.zones.filter((z) => z.primary);
  if (remotes.length) {
    lines.push("remote:");
    remotes.forEach((z, i) => lines.push(`  - id: primary${i}`, `    address: ${z.primary!.address}@${z.primary!.port}`));
  }
  lines.push("acl:");
  lines.push("  - id: none", "    address: 192.0.2.255", "    action: query");
  o.zones.forEach((z, i) => {
    if (z.updateKeys?.length) lines.push(`  - id: update${i}`, `    key: [${z.updateKeys.join(", ")}]`, "    action: update");
  });
  lines.push("template:", "  - id: default", `    storage: "${dir}"`, '    file: "%s.zone"', "    zonefile-sync: -1", "    journal-content: changes");
  lines.push("zone:");
  let r = 0;
  o.zones.forEach((z, i) => {
    lines.push(`  - domain: ${z.name}`);
    if (z.primary) {
      lines.push(`    master: primary${r++}`);
    } else {
      writeFileSync(join(dir, `${z.name}.zone`), zoneFile(z));
    }
    if (z.updateKeys?.length) lines.push(`    acl: [update${i}]`);
  });
  writeFileSync(join(dir, "knot.conf"), `${lines.join("\n")}\n`);
  const conf = join(dir, "knot.conf");
  const p = startProc("knotd", ["-c", conf], dir);
  try {
    await waitServing(p, o.address, o.port, o.zones[0]!.name, "knotd");
  } catch (e) {
    await stopProc(p, dir);
    throw e;
  }
  return {
    kind: "knot",
    address: o.address,
    port: o.port,
    dir,
    hostPort: `${o.address}:${o.port}`,
    log: p.out,
    stop: () => stopProc(p, dir),
    control: (args) => run("knotc", ["-c", conf, "-s", join(dir, "knot.sock"), ...args]),
  };
}
