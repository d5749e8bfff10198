// Benchmark: cluster mode (issue 13), side by side in one invocation.
//   1. 3 hosts x N certificates, all missing (due), `run --all` on the 3 hosts at once:
//      CA orders placed (Pebble's newOrder POSTs) and wall time, cluster mode vs 3 standalone hosts;
//      etcd requests of the cluster round (gRPC calls the members handled, from their /metrics).
//   2. A not-due `run` on a cluster host vs a standalone host: farm-bench, alternating pairs.
// Real components: a 3-member etcd 3.5 and Pebble (scripts/provision-*.sh, or ETCD_BIN/PEBBLE_BIN).
// Usage: npx tsc && node scripts/build.mjs && node bench/cluster.mjs [--certs 10] [--runs 20]
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const ROOT = resolve(import.meta.dirname, "..");
const CLI = join(ROOT, "dist/acme-renew.js");
const { values } = parseArgs({ options: { certs: { type: "string", default: "10" }, runs: { type: "string", default: "20" } } });
const N = Number(values.certs);
const RUNS = Number(values.runs);
const { startEtcdCluster } = await import(join(ROOT, "build/test/helpers/etcd.js"));
const { startPebble } = await import(join(ROOT, "build/test/helpers/pebble.js"));
const { writeDnsHook } = await import(join(ROOT, "build/test/helpers/acme-fixtures.js"));
const { writeCertDir } = await import(join(ROOT, "build/test/helpers/pki.js"));

const root = mkdtempSync(join(tmpdir(), "acme-renew-bench-cluster-"));
const [etcd, pebble] = await Promise.all([startEtcdCluster(), startPebble()]);
const orders = () => pebble.log().split("\n").filter((l) => /POST \/order-plz/.test(l)).length;

/** gRPC calls the etcd members handled so far, by method (the JSON gateway turns each request into one). */
async function etcdCalls() {
  const by = {};
  for (const ep of etcd.endpoints) {
    const text = await (await fetch(`${ep}/metrics`)).text();
    for (const m of text.matchAll(/^grpc_server_handled_total\{([^}]*)\} (\S+)$/gm)) {
      const service = /grpc_service="([^"]+)"/.exec(m[1])?.[1] ?? "";
      if (!/^etcdserverpb\.(KV|Lease|Auth|Watch)$/.test(service)) continue;
      const method = /grpc_method="([^"]+)"/.exec(m[1])?.[1] ?? "?";
      by[method] = (by[method] ?? 0) + Number(m[2]);
    }
  }
  return by;
}
const callsSince = (a, b) => Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v - (a[k] ?? 0)]).filter(([, v]) => v > 0));

function run(args, env = {}) {
  return new Promise((res) => {
    const t0 = Date.now();
    const c = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, CHALLTESTSRV_URL: pebble.challtestsrvUrl, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    c.stderr.on("data", (d) => (err += d));
    c.on("close", (code) => res({ code, ms: Date.now() - t0, err }));
  });
}

/** One host: its config dir (N certificates, dns-01 through challtestsrv) and state dir. */
function host(label, cluster) {
  const dir = join(root, label);
  const etc = join(dir, "etc");
  const state = join(dir, "state");
  mkdirSync(etc, { recursive: true });
  mkdirSync(state, { recursive: true });
  const defaults = { server: pebble.directoryUrl, caBundle: pebble.caBundle, email: "ops@example.com", acceptTerms: true, dnsHook: writeDnsHook(dir), dnsResolver: `127.0.0.1:${pebble.dnsPort}`, dnsPropagationCheck: false, ...(cluster ? { cluster } : {}) };
  writeFileSync(join(etc, "defaults.json"), JSON.stringify(defaults));
  // Cluster hosts share their names; standalone hosts get names of their own (three hosts answering
  // dns-01 for one name at once would overwrite each other's TXT record in challtestsrv).
  const names = cluster ? "cluster" : label;
  for (let i = 0; i < N; i++) writeFileSync(join(etc, `b${i}.${names}.example.com.json`), "{}");
  return { etc, state, args: (...a) => ["--config-dir", etc, "--state-dir", state, ...a] };
}

async function round(kind) {
  const key = join(root, `${kind}.key`);
  writeFileSync(key, `${randomBytes(32).toString("base64")}\n`);
  const cluster = kind === "cluster" ? { etcd: { endpoints: etcd.endpoints }, prefix: `/acme-renew/bench-${process.pid}`, encryptionKeyFile: key } : null;
  const hosts = [0, 1, 2].map((i) => host(`${kind}-h${i}`, cluster));
  const o0 = orders();
  const c0 = await etcdCalls();
  const t0 = Date.now();
  const rs = await Promise.all(hosts.map((h) => run(h.args("run", "--all"))));
  const wall = Date.now() - t0;
  const calls = callsSince(c0, await etcdCalls());
  return { kind, orders: orders() - o0, wall, codes: rs.map((r) => r.code), err: rs.find((r) => r.code !== 0)?.err ?? "", calls };
}

try {
  // Standalone first: each host orders its own N (the names differ per kind, so no authorization is reused).
  const solo = await round("solo");
  const clustered = await round("cluster");
  console.log(`## 3 hosts × ${N} certificates due at once (\`run --all\` on each, concurrently)\n`);
  console.log("| mode | CA orders (newOrder POSTs) | wall time (s) | exit codes |\n|---|---:|---:|---|");
  for (const r of [solo, clustered]) console.log(`| ${r.kind === "solo" ? "3 standalone hosts" : "cluster (3-member etcd)"} | ${r.orders} | ${(r.wall / 1000).toFixed(1)} | ${r.codes.join(" ")} |`);
  const total = Object.values(clustered.calls).reduce((a, b) => a + b, 0);
  console.log(`\netcd requests in the cluster round (gRPC calls handled by the members): ${total} for ${N} certificates on 3 hosts = ${(total / N).toFixed(1)} per certificate renewed (${Object.entries(clustered.calls).map(([k, v]) => `${k} ${v}`).join(", ")}); standalone round: ${Object.values(solo.calls).reduce((a, b) => a + b, 0)}`);
  for (const r of [solo, clustered]) if (r.err) console.log(`\n${r.kind}: ${r.err.split("\n").slice(-5).join("\n")}`);

  // 2. not-due run: one valid certificate, cluster configured vs not (etcd would answer: it is running).
  const mk = async (kind) => {
    const etc = join(root, `nd-${kind}`, "etc");
    const state = join(root, `nd-${kind}`, "state");
    mkdirSync(etc, { recursive: true });
    mkdirSync(state, { recursive: true });
    const c = { webroot: "/var/www", server: "https://127.0.0.1:1/dir", ari: false, ...(kind === "cluster" ? { cluster: { etcd: { endpoints: etcd.endpoints }, encryptionKeyFile: join(root, "cluster.key") } } : {}) };
    writeFileSync(join(etc, "one.example.com.json"), JSON.stringify(c));
    await writeCertDir(state, "one.example.com", { names: ["one.example.com"] });
    return [process.execPath, CLI, "--config-dir", etc, "--state-dir", state, "run", "one.example.com"];
  };
  const a = await mk("cluster");
  const b = await mk("solo");
  const fb = spawnSync("farm-bench", ["-n", String(RUNS), "--timeout", "600", "--vs", b.join(" "), "--", ...a], { encoding: "utf8" });
  console.log(`\n## Not-due \`run\`, cluster host (A) vs standalone host (B): farm-bench, ${RUNS} alternating pairs\n`);
  console.log("```");
  console.log((fb.stdout + fb.stderr).split("\n").filter((l) => /farm-bench|exit|cpu s|wall s|peak MiB|A\/B/.test(l)).join("\n"));
  console.log("```");
} finally {
  await Promise.all([etcd.stop(), pebble.stop()]);
}
