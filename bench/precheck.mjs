// Benchmark: the offline pre-check, on one or more Node.js binaries side by side in one invocation.
//   1. Per line: `node -e 0`, `acme-renew check <one valid cert>` and `run` (not due), alternating runs,
//      medians, ratios against that line's `node -e 0`, peak RSS (GNU time). The certificate is installed
//      the way a renewal installs it (a version directory with its facts record, src/store/facts-record.ts);
//      `check` of the same certificate as plain files (no record: the full check) is shown for comparison.
//   2. `--fleet N`: `check --all` (text and --json) and a not-due `run --all` over N certificates, once as installed by
//      acme-renew and once as plain files (e.g. adopted from lego), each with a fresh stored ARI answer.
// Usage: node bench/precheck.mjs [--node /path/to/node ...] [--runs 30] [--fleet 1000 (0: none)] [--fleet-runs 3]
//        [--baseline OTHER/dist/acme-renew.js (fleets: the same commands of another build, alternating; ratio)]
//        [--dir DIR] [--keep] (fixtures go to DIR; default /dev/shm when there, so that creating 2×N certificate
//        directories does not wait on fsync; the timed commands read through the page cache either way)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { execFileSync } from "node:child_process";
import { compare, measure, median, table } from "./lib.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const CLI = join(ROOT, "dist/acme-renew.js");
const { testCa } = await import(join(ROOT, "build/test/helpers/pki.js"));
const { createCertificate } = await import(join(ROOT, "build/src/crypto/certs.js"));
const { generateKeyPair } = await import(join(ROOT, "build/src/crypto/keys.js"));
const { install } = await import(join(ROOT, "build/src/store/install.js"));
const { certPaths } = await import(join(ROOT, "build/src/store/paths.js"));
const { certIdOf } = await import(join(ROOT, "build/src/ari/cert-id.js"));
const { values } = parseArgs({
  options: {
    node: { type: "string", multiple: true },
    runs: { type: "string", default: "30" },
    fleet: { type: "string", default: "1000" },
    "fleet-runs": { type: "string", default: "3" },
    dir: { type: "string" },
    baseline: { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
const nodes = values.node?.length ? values.node : [process.execPath];
const runs = Number(values.runs);
const fleet = Number(values.fleet);
const fleetRuns = Number(values["fleet-runs"]);
const base = values.dir ?? (existsSync("/dev/shm") ? "/dev/shm" : tmpdir());
const root = mkdtempSync(join(base, "acme-renew-bench-"));
process.on("exit", () => (values.keep ? console.error(`fixtures kept in ${root}`) : rmSync(root, { recursive: true, force: true })));

// As under the units (CacheDirectory=): Node's compile cache in CACHE_DIRECTORY (src/cli/compile-cache.ts),
// filled by each command's warm-up run. NODE_COMPILE_CACHE and NODE_DISABLE_COMPILE_CACHE pass through.
const env = { ...process.env, CACHE_DIRECTORY: join(root, "cache") };
mkdirSync(env.CACHE_DIRECTORY, { mode: 0o700 });
const DAY = 86_400_000;
const now = Date.now();
/** state.json as after an issuance: a fresh stored ARI answer, so `run` has no reason to ask the CA. */
function writeFreshState(stateDir, name, der) {
  const ari = { certId: certIdOf(der), windowStart: new Date(now + 50 * DAY), windowEnd: new Date(now + 52 * DAY), selectedTime: new Date(now + 51 * DAY), explanationURL: null, fetchedAt: new Date(now), nextRefreshAt: new Date(now + 6 * 3600_000), unsupported: false, lastError: null };
  writeFileSync(join(stateDir, name, "state.json"), JSON.stringify({ version: 1, ari }));
}
// The configs name a CA that is not there: should anything try to reach it, the run fails (exit ≠ 0).
const config = JSON.stringify({ webroot: "/var/www", server: "https://127.0.0.1:1/dir" });

function makeDirs(kind) {
  const etc = join(root, `${kind}-etc`);
  const state = join(root, `${kind}-state`);
  mkdirSync(etc);
  mkdirSync(state);
  return { etc, state };
}

/** N certificates for names h<i>.example.com (one key for all: the key is not what is measured). */
async function makeCerts(kind, n) {
  const d = makeDirs(kind);
  const ca = await testCa();
  const key = await generateKeyPair("ec256");
  for (let i = 0; i < n; i++) {
    const name = n === 1 ? "one.example.com" : `h${i}.example.com`;
    writeFileSync(join(d.etc, `${name}.json`), config);
    const cert = await createCertificate({ names: [name], key, issuer: ca, notBefore: new Date(now - DAY), notAfter: new Date(now + 89 * DAY) });
    const certPem = cert.toString("pem") + "\n";
    const chainPem = ca.cert.toString("pem") + "\n";
    if (kind.startsWith("plain")) {
      const dir = join(d.state, name);
      mkdirSync(dir);
      writeFileSync(join(dir, "cert.pem"), certPem);
      writeFileSync(join(dir, "chain.pem"), chainPem);
      writeFileSync(join(dir, "fullchain.pem"), certPem + chainPem);
      writeFileSync(join(dir, "key.pem"), key.pem, { mode: 0o600 });
      writeFileSync(join(dir, "full.pem"), key.pem + certPem + chainPem, { mode: 0o600 });
    } else {
      await install(certPaths(d.state, name), { keyPem: key.pem, certPem, chainPem }, { keep: 3, group: null, now: new Date(now) });
    }
    writeFreshState(d.state, name, new Uint8Array(cert.rawData));
  }
  return d;
}

const version = (n) => execFileSync(n, ["--version"], { encoding: "utf8" }).trim();
const rel = (r, base) => (r.rssKiB && base.rssKiB ? `${(r.rssKiB / base.rssKiB).toFixed(2)}×` : "-");

// --- 1. one certificate, per Node line -----------------------------------------------------------
if (runs > 0) {
  const one = await makeCerts("one", 1);
  const plain = await makeCerts("plain-one", 1);
  console.log(`## Pre-check of one valid certificate (${runs} alternating runs per line, medians)\n`);
  const summary = ["| Node | node -e 0 ms | check ms | ratio | run (not due) ms | ratio | node -e 0 RSS MiB | check RSS | ratio | run RSS | ratio |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"];
  for (const node of nodes) {
    const cli = (d, ...a) => [node, CLI, "--config-dir", d.etc, "--state-dir", d.state, ...a];
    const rows = await compare(
      [
        { name: "node -e 0", argv: [node, "-e", "0"], env },
        { name: "acme-renew check one", argv: cli(one, "check", "one.example.com"), env },
        { name: "acme-renew run one (not due)", argv: cli(one, "run", "one.example.com"), env },
        { name: "acme-renew check one (plain files)", argv: cli(plain, "check", "one.example.com"), env },
      ],
      runs,
    );
    console.log(`### Node ${version(node)} (${node})\n`);
    console.log(table(rows, "node -e 0") + "\n");
    const [b, c, r] = rows;
    summary.push(`| ${version(node)} | ${b.medianMs.toFixed(1)} | ${c.medianMs.toFixed(1)} | ${(c.medianMs / b.medianMs).toFixed(2)}× | ${r.medianMs.toFixed(1)} | ${(r.medianMs / b.medianMs).toFixed(2)}× | ${(b.rssKiB / 1024).toFixed(1)} | ${(c.rssKiB / 1024).toFixed(1)} | ${rel(c, b)} | ${(r.rssKiB / 1024).toFixed(1)} | ${rel(r, b)} |`);
  }
  console.log(`### Summary (goal: ≤ 1.3× the time and ≤ 1.15× the peak RSS of node -e 0)\n\n${summary.join("\n")}\n`);
}

// --- 2. fleets -------------------------------------------------------------------------------------
if (fleet > 0) {
  const t0 = Date.now();
  const fleets = [
    ["installed", "installed by acme-renew (facts record)", await makeCerts("installed", fleet)],
    ["plain", "plain files (e.g. adopted from lego)", await makeCerts("plain", fleet)],
  ];
  console.log(`## ${fleet} certificates (${fleetRuns} runs each, medians; fixtures made in ${((Date.now() - t0) / 1000).toFixed(0)} s under ${base})\n`);
  const baseline = values.baseline ? resolve(values.baseline) : null;
  console.log(`| Node | certificates on disk | command | median ms | per cert ms | peak RSS MiB | exit |${baseline ? " baseline ms | ratio |" : ""}\n|---|---|---|---:|---:|---:|---|${baseline ? "---:|---:|" : ""}`);
  for (const node of nodes) {
    for (const [, label, d] of fleets) {
      for (const cmd of [["check", "--all"], ["check", "--all", "--json"], ["run", "--all"]]) {
        const argvOf = (cli) => [node, cli, "--config-dir", d.etc, "--state-dir", d.state, ...cmd];
        const builds = baseline ? [CLI, baseline] : [CLI];
        for (const b of builds) await measure(argvOf(b), { env }); // warm-up (page cache, compile cache)
        const ms = builds.map(() => []);
        const rss = [];
        const codes = new Set();
        // Alternating with the baseline build, when given.
        for (let i = 0; i < fleetRuns; i++) {
          for (const [j, b] of builds.entries()) {
            const m = await measure(argvOf(b), { env });
            ms[j].push(m.ms);
            if (j === 0 && m.rss !== null) rss.push(m.rss);
            if (j === 0) codes.add(m.code);
          }
        }
        const med = median(ms[0]);
        const extra = baseline ? ` ${median(ms[1]).toFixed(0)} | ${(med / median(ms[1])).toFixed(2)}× |` : "";
        console.log(`| ${version(node)} | ${label} | ${cmd.join(" ")} | ${med.toFixed(0)} | ${(med / fleet).toFixed(3)} | ${rss.length ? (median(rss) / 1024).toFixed(1) : "-"} | ${[...codes].join(",")} |${extra}`);
      }
    }
  }
}
