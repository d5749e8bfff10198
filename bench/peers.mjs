// Benchmarks against peers on the same Pebble, in one invocation:
//   1. pre-check of one valid certificate: acme-renew run (not due) vs node -e 0 vs certbot renew vs lego renew
//   2. fleet: 100 due certificates, acme-renew run --all at concurrency 1/4/8 vs lego issuing them one by one
//   3. single issuance latency (Pebble retryAfter 0 and 1): acme-renew vs lego run vs certbot certonly --standalone
//   4. CA down with a valid certificate (not due, and due): exit code and wall time of each tool
//   5. requests per issuance (first issuance, renewal) of a 2-name http-01 certificate, counted in
//      Pebble's log: acme-renew vs lego vs certbot
//   6. wildcard issuance through rfc2136 + authoritative check: acme-renew vs lego --dns rfc2136 (bench/dns.mjs)
// Installs lego and certbot from Debian's packages when missing (root). Writes bench/RESULTS.md.
// Usage: npm run bench:peers [-- --runs 7 --fleet 100] [--only requests,latency,down,precheck,fleet,dns,offline]
import { execFileSync, spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { compare, measure, table } from "./lib.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const CLI = join(ROOT, "dist/acme-renew.js");
const { values } = parseArgs({ options: { runs: { type: "string", default: "7" }, fleet: { type: "string", default: "100" }, only: { type: "string" }, out: { type: "string" } } });
const only = values.only ? new Set(values.only.split(",")) : null;
const want = (section) => !only || only.has(section);
// A partial run (--only) writes a file only when asked to (--out): bench/RESULTS.md holds full runs.
const OUT = values.out ?? (only ? null : join(ROOT, "bench/RESULTS.md"));
const RUNS = Number(values.runs);
const FLEET = Number(values.fleet);
const { startPebble } = await import(join(ROOT, "build/test/helpers/pebble.js"));

const have = (c) => spawnSync("sh", ["-c", `command -v ${c}`]).status === 0;
if (!have("lego") || !have("certbot") || !have("named") || !have("kdig")) {
  console.error("bench: installing lego, certbot, bind9 and knot-dnsutils from Debian's packages");
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "lego", "certbot", "bind9", "knot-dnsutils"], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
}
const version = (argv) => spawnSync(argv[0], argv.slice(1), { encoding: "utf8" }).stdout.trim().split("\n")[0];
const aptVersion = (pkg) => spawnSync("dpkg-query", ["-W", "-f=${Version}", pkg], { encoding: "utf8" }).stdout.trim();

const work = mkdtempSync(join(tmpdir(), "acme-renew-peers-"));
const out = [];
const say = (s = "") => {
  console.log(s);
  out.push(s);
};

/** The three tools, pointed at one Pebble. Each `*Issue` obtains (or re-obtains) `name`. */
function tools(pebble, tag) {
  const base = join(work, tag);
  const etc = join(base, "etc");
  const state = join(base, "state");
  const lego = join(base, "lego");
  const cb = join(base, "certbot");
  for (const d of [etc, state, lego, join(cb, "c"), join(cb, "w"), join(cb, "l")]) mkdirSync(d, { recursive: true });
  const legoEnv = { ...process.env, LEGO_CA_CERTIFICATES: pebble.caBundle };
  const cbEnv = { ...process.env, REQUESTS_CA_BUNDLE: pebble.caBundle };
  // `name`: one name or several (one certificate for all).
  const legoArgs = (name, server = pebble.directoryUrl) => ["lego", "--server", server, "--email", "bench@example.com", "--accept-tos", "--path", lego, ...[name].flat().flatMap((n) => ["--domains", n]), "--http", "--http.port", `127.0.0.1:${pebble.httpPort}`];
  const cbDirs = ["--config-dir", join(cb, "c"), "--work-dir", join(cb, "w"), "--logs-dir", join(cb, "l")];
  return {
    etc,
    state,
    config(name, extra = {}) {
      writeFileSync(join(etc, `${name}.json`), JSON.stringify({ server: pebble.directoryUrl, caBundle: pebble.caBundle, email: "bench@example.com", acceptTerms: true, listenHTTP: `127.0.0.1:${pebble.httpPort}`, ...extra }));
    },
    acme: (...a) => ({ argv: [process.execPath, CLI, "--config-dir", etc, "--state-dir", state, ...a] }),
    legoRun: (name, server) => ({ argv: [...legoArgs(name, server), "run"], env: legoEnv }),
    // --no-random-sleep: lego sleeps up to 8 minutes before a due renewal otherwise.
    legoRenew: (name, days, server) => ({ argv: [...legoArgs(name, server), "renew", "--days", String(days), "--no-random-sleep"], env: legoEnv }),
    certbotIssue: (name, server = pebble.directoryUrl) => ({
      argv: ["certbot", "certonly", "--standalone", "--non-interactive", "--agree-tos", "-m", "bench@example.com", "--server", server, "--http-01-port", String(pebble.httpPort), "--http-01-address", "127.0.0.1", ...[name].flat().flatMap((n) => ["-d", n]), "--force-renewal", ...cbDirs],
      env: cbEnv,
    }),
    certbotRenew: (force, server) => ({
      argv: ["certbot", "renew", "--non-interactive", ...(force ? ["--force-renewal"] : []), ...(server ? ["--server", server] : []), ...cbDirs],
      env: cbEnv,
    }),
  };
}

async function must(cmd, what) {
  const m = await measure(cmd.argv, cmd);
  if (m.code !== 0) throw new Error(`${what}: exit ${m.code}: ${cmd.argv.join(" ")}`);
  return m;
}

const started = new Date();
say(`# acme-renew benchmarks against lego and certbot`);
say();
say(`Date: ${started.toISOString().slice(0, 10)}. Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}, lego ${aptVersion("lego")} (${version(["lego", "--version"])}), certbot ${aptVersion("certbot")}, Pebble 2.6.0 on loopback with PEBBLE_VA_NOSLEEP=1.`);
say(`Reproduce: \`npm run bench:peers -- --runs ${RUNS} --fleet ${FLEET}\` (medians of alternating runs; peak RSS from GNU time).`);

// --- 1 + 3: one Pebble with retryAfter 1, one with 0 -----------------------------------------
for (const retryAfter of want("precheck") || want("latency") || want("down") ? [1, 0] : []) {
  const pebble = await startPebble({ retryAfter: { authz: retryAfter, order: retryAfter }, env: { PEBBLE_VA_NOSLEEP: "1" } });
  try {
    const t = tools(pebble, `ra${retryAfter}`);
    t.config("one.example.com");
    await must(t.acme("run", "one.example.com"), "acme-renew first issuance");
    await must(t.legoRun("one.example.com"), "lego first issuance");
    await must(t.certbotIssue("one.example.com"), "certbot first issuance");

    if (retryAfter === 1 && want("precheck")) {
      say();
      say(`## 1. Pre-check of one valid certificate (not due), ${RUNS * 3} alternating runs`);
      say();
      say(table(await compare([
        { name: "node -e 0", argv: [process.execPath, "-e", "0"] },
        { name: "acme-renew run (not due)", ...t.acme("run", "one.example.com") },
        { name: "certbot renew (not due)", ...t.certbotRenew(false) },
        { name: "lego renew --days 30 (not due; contacts the CA)", ...t.legoRenew("one.example.com", 30) },
      ], RUNS * 3), "node -e 0"));
    }

    if (want("latency")) {
      say();
      say(`## 3. Single issuance latency, Pebble retryAfter ${retryAfter} (${RUNS} alternating runs)`);
      say();
      say(table(await compare([
        { name: "lego run", ...t.legoRun("one.example.com") },
        { name: "acme-renew run --force", ...t.acme("run", "one.example.com", "--force") },
        { name: "certbot certonly --standalone", ...t.certbotIssue("one.example.com") },
      ], RUNS), "lego run"));
    }

    if (retryAfter === 1 && want("down")) {
      // --- 4: CA down ---------------------------------------------------------------------------
      const down = "https://127.0.0.1:1/dir";
      t.config("one.example.com", { server: down });
      // due.example.com: a copy of one.example.com's files (ec256), judged due (configured ec384).
      execFileSync("cp", ["-a", join(t.state, "one.example.com"), join(t.state, "due.example.com")]);
      writeFileSync(join(t.etc, "due.example.com.json"), JSON.stringify({ domain: "one.example.com", server: down, caBundle: pebble.caBundle, listenHTTP: `127.0.0.1:${pebble.httpPort}`, keyType: "ec384" }));
      const rows = [
        ["acme-renew run", "not due", t.acme("run", "one.example.com")],
        ["lego renew --days 30", "not due", t.legoRenew("one.example.com", 30, down)],
        ["certbot renew", "not due", t.certbotRenew(false, down)],
        ["acme-renew run", "due", t.acme("run", "due.example.com", "--timeout", "30")],
        ["lego renew --days 3650", "due", t.legoRenew("one.example.com", 3650, down)],
        ["certbot renew --force-renewal", "due", t.certbotRenew(true, down)],
      ];
      say();
      say("## 4. CA down (connection refused), certificate valid");
      say();
      say("| tool | certificate | exit code | wall ms | what a systemd unit does | last line on stderr |\n|---|---|---:|---:|---|---|");
      for (const [name, when, cmd] of rows) {
        const m = await measure(cmd.argv, { ...cmd, stderr: true, timeoutMs: 300_000 });
        const said = (m.lastLine ?? "").replace(/\|/g, "\\|").slice(0, 160);
        const meaning = m.code === null ? "still running after 300 s: killed by the benchmark" : m.code === 0 ? "succeeds" : m.code === 75 ? "succeeds (SuccessExitStatus=75), status shows 75" : "fails: dependent services with Requires= do not start";
        say(`| ${name} | ${when} | ${m.code} | ${m.ms.toFixed(0)} | ${meaning} | ${said} |`);
      }
    }
  } finally {
    await pebble.stop();
  }
}

// --- 2: fleet ------------------------------------------------------------------------------------
if (want("fleet")) {
  const pebble = await startPebble({ retryAfter: { authz: 1, order: 1 }, env: { PEBBLE_VA_NOSLEEP: "1" } });
  try {
    say();
    say(`## 2. Fleet: ${FLEET} due certificates (none on disk), Pebble retryAfter 1`);
    say();
    say("| tool | concurrency | wall s | certificates/s | ratio vs lego | exit |\n|---|---:|---:|---:|---:|---|");
    const rows = [];
    const t0 = tools(pebble, "fleet-lego");
    const lt = Date.now();
    let legoFail = 0;
    for (let i = 0; i < FLEET; i++) if ((await measure(t0.legoRun(`lego${i}.example.com`).argv, t0.legoRun(`lego${i}.example.com`))).code !== 0) legoFail++;
    const legoS = (Date.now() - lt) / 1000;
    rows.push(["lego run (one process per name)", 1, legoS, legoFail ? `${legoFail} failed` : "0"]);
    for (const c of [1, 4, 8]) {
      const t = tools(pebble, `fleet-${c}`);
      for (let i = 0; i < FLEET; i++) t.config(`c${c}-${i}.example.com`);
      const m = await measure(t.acme("run", "--all", "--concurrency", String(c)).argv, { timeoutMs: 3_600_000 });
      rows.push(["acme-renew run --all", c, m.ms / 1000, String(m.code)]);
    }
    for (const [name, c, s, code] of rows) say(`| ${name} | ${c} | ${s.toFixed(1)} | ${(FLEET / s).toFixed(2)} | ${(legoS / s).toFixed(2)}× | ${code} |`);
  } finally {
    await pebble.stop();
  }
}

// --- 5: requests per issuance, counted in Pebble's log ------------------------------------------
if (want("requests")) {
  say();
  say("## 5. Requests to the CA per issuance (2-name http-01 certificate, counted in Pebble's log)");
  say();
  say("Each tool on its own fresh Pebble (PEBBLE_AUTHZREUSE=0: every order needs new validations), one");
  say("run each; a request is one `-> calling handler()` line of Pebble's log. Renewal: acme-renew");
  say("`run --force`, lego `renew --days 3650 --no-random-sleep`, certbot `certonly --force-renewal`.");
  say();
  say("| Pebble retryAfter | tool | first issuance | renewal | first issuance by endpoint | renewal by endpoint |\n|---:|---|---:|---:|---|---|");
  const names = ["req.example.com", "www.req.example.com"];
  const handled = (p) => p.log().split("\n").filter((l) => l.includes("-> calling handler()"));
  const quiet = async (p) => {
    for (let n = handled(p).length, i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 150));
      if (handled(p).length === n) return;
      n = handled(p).length;
    }
  };
  const count = async (p, cmd, what) => {
    await quiet(p);
    const from = handled(p).length;
    await must(cmd, what);
    await quiet(p);
    return handled(p).slice(from).map((l) => l.replace(/^.*\d\d:\d\d:\d\d /, "").replace(" -> calling handler()", ""));
  };
  const byEndpoint = (l) => Object.entries(l.reduce((m, x) => ((m[x] = (m[x] ?? 0) + 1), m), {})).map(([k, v]) => `${k} ×${v}`).join(", ");
  for (const retryAfter of [0, 1]) {
    for (const tool of ["acme-renew", "lego", "certbot"]) {
      const pebble = await startPebble({ retryAfter: { authz: retryAfter, order: retryAfter }, env: { PEBBLE_VA_NOSLEEP: "1" } });
      try {
        const t = tools(pebble, `req-${tool}-${retryAfter}`);
        if (tool === "acme-renew") t.config(names[0], { extraDomainNames: names.slice(1) });
        const cmds = {
          "acme-renew": [t.acme("run", names[0]), t.acme("run", names[0], "--force")],
          lego: [t.legoRun(names), t.legoRenew(names, 3650)],
          certbot: [t.certbotIssue(names), t.certbotIssue(names)],
        }[tool];
        const first = await count(pebble, cmds[0], `${tool} first issuance`);
        const renewal = await count(pebble, cmds[1], `${tool} renewal`);
        say(`| ${retryAfter} | ${tool} | ${first.length} | ${renewal.length} | ${byEndpoint(first)} | ${byEndpoint(renewal)} |`);
      } finally {
        await pebble.stop();
      }
    }
  }
}

// --- 6: wildcard issuance through rfc2136 (bench/dns.mjs, in a network namespace of its own) ------
if (want("dns")) {
  say();
  const dns = spawnSync(process.execPath, [join(ROOT, "bench/dns.mjs"), "--runs", String(RUNS)], { encoding: "utf8", maxBuffer: 16 << 20, timeout: 3_600_000 });
  if (dns.status !== 0) say(`## 6. rfc2136 wildcard issuance: bench/dns.mjs failed (exit ${dns.status})\n\n\`\`\`\n${dns.stderr.trim().split("\n").slice(-10).join("\n")}\n\`\`\``);
  else for (const l of dns.stdout.trim().split("\n")) say(l);
}

// --- the offline pre-check fleet (bench/precheck.mjs) for completeness ----------------------------
if (want("offline")) {
  say();
  say("## Offline pre-check (bench/precheck.mjs)");
  say();
  const pre = spawnSync(process.execPath, [join(ROOT, "bench/precheck.mjs"), "--runs", String(RUNS * 3)], { encoding: "utf8" });
  for (const l of pre.stdout.trim().split("\n")) say(l.startsWith("## ") ? `#${l}` : l);
}

if (OUT) writeFileSync(OUT, `${out.join("\n")}\n`);
console.error(`bench: ${OUT ? `wrote ${OUT}` : "done"} (${((Date.now() - started.getTime()) / 60000).toFixed(1)} min)`);
