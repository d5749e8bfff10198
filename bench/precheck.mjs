// Benchmark: the offline pre-check.
//   1. `acme-renew check <one valid cert>` and `run` (not due) vs `node -e 0`, alternating, medians.
//   2. `check --all` over 1,000 generated configs.
// Usage: npm run bench:precheck [-- --runs 30 --fleet 1000]
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { compare, measure, median, table } from "./lib.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const CLI = join(ROOT, "dist/acme-renew.js");
const { writeCertDir, makeLeaf } = await import(join(ROOT, "build/test/helpers/pki.js"));
const { install } = await import(join(ROOT, "build/src/store/install.js"));
const { certPaths } = await import(join(ROOT, "build/src/store/paths.js"));
const { values } = parseArgs({ options: { runs: { type: "string", default: "30" }, fleet: { type: "string", default: "1000" } } });
const runs = Number(values.runs);
const fleet = Number(values.fleet);

const root = mkdtempSync(join(tmpdir(), "acme-renew-bench-"));
const etc = join(root, "etc");
const state = join(root, "state");
mkdirSync(etc);
mkdirSync(state);
writeFileSync(join(etc, "one.example.com.json"), JSON.stringify({ webroot: "/var/www", server: "https://127.0.0.1:1/dir" }));
{
  // As after an issuance: a stored ARI answer still fresh, so `run` has no reason to ask the CA.
  const { cert } = await writeCertDir(state, "one.example.com", { names: ["one.example.com"] });
  const { certIdOf } = await import(join(ROOT, "build/src/ari/cert-id.js"));
  const day = 86_400_000;
  const now = Date.now();
  const ari = { certId: certIdOf(new Uint8Array(cert.rawData)), windowStart: new Date(now + 50 * day), windowEnd: new Date(now + 52 * day), selectedTime: new Date(now + 51 * day), explanationURL: null, fetchedAt: new Date(now), nextRefreshAt: new Date(now + 6 * 3600_000), unsupported: false, lastError: null };
  writeFileSync(join(state, "one.example.com", "state.json"), JSON.stringify({ version: 1, ari }));
}

const cli = (...a) => [process.execPath, CLI, "--config-dir", etc, "--state-dir", state, ...a];
const rows = await compare(
  [
    { name: "node -e 0", argv: [process.execPath, "-e", "0"] },
    { name: "acme-renew check one", argv: cli("check", "one.example.com") },
    { name: "acme-renew run one (not due)", argv: cli("run", "one.example.com") },
  ],
  runs,
);
console.log(`## Pre-check of one valid certificate (${runs} alternating runs, medians)\n`);
console.log(table(rows, "node -e 0"));

async function makeFleet(kind) {
  const fEtc = join(root, `${kind}-etc`);
  const fState = join(root, `${kind}-state`);
  mkdirSync(fEtc);
  mkdirSync(fState);
  for (let i = 0; i < fleet; i++) {
    const name = `h${i}.example.com`;
    writeFileSync(join(fEtc, `${name}.json`), JSON.stringify({ webroot: "/var/www" }));
    if (kind === "plain") await writeCertDir(fState, name, { names: [name] });
    else {
      const { key, cert, issuer } = await makeLeaf({ names: [name] });
      await install(certPaths(fState, name), { keyPem: key.pem, certPem: cert.toString("pem"), chainPem: issuer.cert.toString("pem") }, { keep: 3, group: null, now: new Date() });
    }
  }
  return [process.execPath, CLI, "--config-dir", fEtc, "--state-dir", fState, "check", "--all", "--json"];
}

const fleetRuns = Math.max(3, Math.round(runs / 5));
console.log(`\n## check --all over ${fleet} certificates (${fleetRuns} runs, medians)\n`);
console.log("| certificates on disk | configs | median ms | per cert ms | exit |\n|---|---:|---:|---:|---|");
for (const [kind, label] of [["installed", "written by acme-renew (pair proof)"], ["plain", "plain files (e.g. adopted from lego)"]]) {
  const argv = await makeFleet(kind);
  const ms = [];
  let code;
  for (let i = 0; i < fleetRuns; i++) {
    const m = await measure(argv);
    ms.push(m.ms);
    code = m.code;
  }
  console.log(`| ${label} | ${fleet} | ${median(ms).toFixed(0)} | ${(median(ms) / fleet).toFixed(2)} | ${code} |`);
}
