// Benchmark (issue 11, item 21): what the ARI refresh adds to a not-due `run` when the CA is down.
// A: `run` of a valid, not-due certificate with no stored ARI answer (so it asks the CA);
// B: the same with `ari: false` (no reason to contact the CA). farm-bench times the whole
// processes in alternating pairs; the added time is median(A) - median(B). Each run starts
// without state.json (an `rm -f` in both A and B), so every A refreshes.
// CA down as: connection refused; silent (accepts, never answers); no network (unshare -n).
// With --baseline DIST the silent case is also run against that build (e.g. the commit before).
// Usage: npx tsc && node scripts/build.mjs && node bench/ari-refresh.mjs [-- --runs 10 --baseline /tmp/old/dist/acme-renew.js]
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const ROOT = resolve(import.meta.dirname, "..");
const { values } = parseArgs({ options: { runs: { type: "string", default: "10" }, baseline: { type: "string" } } });
const RUNS = values.runs;
const { writeCertDir } = await import(join(ROOT, "build/test/helpers/pki.js"));
const NAME = "ari.example.com";

const work = mkdtempSync(join(tmpdir(), "acme-renew-bench-ari-"));
const state = join(work, "state");
mkdirSync(state);
await writeCertDir(state, NAME, { names: [NAME] });

// A CA that accepts connections and never answers.
const held = [];
const hole = createServer((c) => held.push(c));
await new Promise((r) => hole.listen(0, "127.0.0.1", r));
const silent = `https://127.0.0.1:${hole.address().port}/dir`;

function etc(tag, cfg) {
  const d = join(work, `etc-${tag}`);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, `${NAME}.json`), JSON.stringify({ listenHTTP: ":80", ...cfg }));
  return d;
}
/** The shell line of one run (paths have no spaces or quotes: they are ours). */
const script = (dist, etcDir, wrapper = "") => `rm -f ${join(state, NAME, "state.json")}; exec ${wrapper} ${process.execPath} ${dist} --config-dir ${etcDir} --state-dir ${state} run ${NAME}`;

const DIST = join(ROOT, "dist/acme-renew.js");
const cases = [
  ["connection refused", DIST, { server: "https://127.0.0.1:1/dir" }, ""],
  ["silent (accepts, never answers)", DIST, { server: silent }, ""],
  ["no network (unshare -n, DNS name)", DIST, { server: "https://acme-v02.api.letsencrypt.org/directory" }, "unshare -n"],
  ...(values.baseline ? [["silent, baseline build", resolve(values.baseline), { server: silent }, ""]] : []),
];

const median = (out, row) => Number(new RegExp(`^${row}\\s+\\S+\\s+(\\S+)`, "m").exec(out)?.[1]);
console.log(`## Not-due run, stale ARI answer, CA down: time added by the refresh (farm-bench, ${RUNS} alternating pairs, medians)\n`);
console.log("| CA | build | A: refresh (s) | B: ari off (s) | added (ms) | A/B wall | A exits |\n|---|---|---:|---:|---:|---:|---|");
for (const [label, dist, cfg, wrapper] of cases) {
  const tag = label.replace(/\W+/g, "-");
  const a = script(dist, etc(`${tag}-a`, cfg), wrapper);
  const b = script(dist, etc(`${tag}-b`, { ...cfg, ari: false }), wrapper);
  const r = spawnSync("farm-bench", ["-n", RUNS, "--timeout", "1800", "--vs", `sh -c '${b}'`, "--", "sh", "-c", a], { encoding: "utf8" });
  const out = `${r.stdout}${r.stderr}`;
  const aw = median(out, "A wall s");
  const bw = median(out, "B wall s");
  const ratio = median(out, "A/B wall");
  const exits = /^A exit (.*)$/m.exec(out)?.[1] ?? "?";
  console.log(`| ${label} | ${dist === DIST ? "this" : "baseline"} | ${aw.toFixed(3)} | ${bw.toFixed(3)} | ${((aw - bw) * 1000).toFixed(0)} | ${ratio.toFixed(2)} | ${exits} |`);
  if (process.env.BENCH_VERBOSE) console.error(out);
}
for (const c of held) c.destroy();
hole.close();
