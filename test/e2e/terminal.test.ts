/**
 * A terminal that helps (issue 15), through a real pty (util-linux `script`): `check` and `status`
 * print one table — coloured, fitted to the terminal's width, without the same facts again as log
 * lines — and `run` over several certificates keeps one status line (done/total and each running
 * certificate's stage). NO_COLOR, a pipe, and systemd (INVOCATION_ID) get none of it. Exact output.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as cliHelpers from "../helpers/cli.js";
import { CLI, sandbox } from "../helpers/cli.js";
import { startPebble, type Pebble } from "../helpers/pebble.js";
import { writeCertDir } from "../helpers/pki.js";

// The clock of the child (a date after the build time, so that dates are judged).
// A minute before midnight: the test clock runs on from here, and whole days left must not tip over while it does.
const NOW = "2030-01-09T23:59:00.000Z";
/** The child's environment with the test clock (through test/helpers/cli.ts where it provides one). */
function clockEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const withClock = (cliHelpers as { childEnv?: (e: NodeJS.ProcessEnv) => NodeJS.ProcessEnv }).childEnv;
  return withClock ? withClock(env) : { PATH: process.env.PATH, HOME: process.env.HOME, ...env };
}

const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/** Runs the CLI on a pty of `cols` columns; returns what the terminal received (\r\n line ends made \n). */
function onPty(args: string[], o: { cols?: number; env?: NodeJS.ProcessEnv } = {}): { code: number | null; out: string } {
  const cmd = `stty cols ${o.cols ?? 120} rows 40; exec ${q(process.execPath)} ${q(CLI)} ${args.map(q).join(" ")}`;
  const r = spawnSync("script", ["-qec", cmd, "/dev/null"], { env: clockEnv({ ACME_RENEW_NOW: NOW, ...o.env }), encoding: "utf8", timeout: 120_000 });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout.replace(/\r\n/g, "\n") };
}

const ESC = "\x1b[";
const b = (s: string) => `${ESC}1m${s}${ESC}0m`;
const g = (s: string) => `${ESC}32m${s}${ESC}0m`;
const y = (s: string) => `${ESC}33m${s}${ESC}0m`;
const r = (s: string) => `${ESC}31m${s}${ESC}0m`;

describe("tables on a terminal", () => {
  const s = sandbox();
  before(async () => {
    // valid (renews 2030-01-30), due (in its window), expired
    await writeCertDir(s.stateDir, "a.example.com", { names: ["a.example.com"], notBefore: new Date("2029-12-01T00:00:00Z"), notAfter: new Date("2030-03-01T00:00:00Z") });
    await writeCertDir(s.stateDir, "b.example.com", { names: ["b.example.com", "www.b.example.com"], notBefore: new Date("2029-11-01T00:00:00Z"), notAfter: new Date("2030-01-20T00:00:00Z") });
    await writeCertDir(s.stateDir, "c.example.com", { names: ["c.example.com"], notBefore: new Date("2029-10-01T00:00:00Z"), notAfter: new Date("2030-01-05T00:00:00Z") });
    for (const n of ["a.example.com", "b.example.com", "c.example.com"]) s.writeConfig(n, { webroot: "/var/www", ari: false, ...(n === "b.example.com" ? { extraDomainNames: ["www.b.example.com"] } : {}) });
  });
  const dirs = () => ["--config-dir", s.configDir, "--state-dir", s.stateDir];

  test("check --all on a terminal: one coloured table, no log lines", () => {
    const t = onPty([...dirs(), "check", "--all"], { cols: 120 });
    assert.equal(t.code, 1, "exit code as without a terminal (c is not usable)");
    assert.equal(
      t.out,
      [
        `${b("NAME         ")}  ${b("STATUS      ")}  ${b("USABLE")}  ${b("NOT AFTER       ")}  ${b("DAYS")}  ${b("RENEW AT        ")}  ${b("WHY")}`,
        `a.example.com  ${g("valid       ")}  yes     2030-03-01 00:00  ${g("50  ")}  2030-01-30 00:00  -`,
        `b.example.com  ${y("due (window)")}  yes     2030-01-20 00:00  ${y("10  ")}  2029-12-24 08:00  in renewal window since 2029-12-24T08:00…`,
        `c.example.com  ${r("expired     ")}  ${r("NO    ")}  2030-01-05 00:00  ${r("-5  ")}  2029-12-04 00:00  expired at 2030-01-05T00:00:00.000Z`,
        "",
      ].join("\n"),
    );
  });

  test("check --all with NO_COLOR: the same table without colours; at 60 columns the least needed columns give way", () => {
    const t = onPty([...dirs(), "check", "--all"], { cols: 120, env: { NO_COLOR: "1" } });
    assert.equal(
      t.out,
      [
        "NAME           STATUS        USABLE  NOT AFTER         DAYS  RENEW AT          WHY",
        "a.example.com  valid         yes     2030-03-01 00:00  50    2030-01-30 00:00  -",
        "b.example.com  due (window)  yes     2030-01-20 00:00  10    2029-12-24 08:00  in renewal window since 2029-12-24T08:00…",
        "c.example.com  expired       NO      2030-01-05 00:00  -5    2029-12-04 00:00  expired at 2030-01-05T00:00:00.000Z",
        "",
      ].join("\n"),
    );
    const narrow = onPty([...dirs(), "check", "--all"], { cols: 60, env: { NO_COLOR: "1" } });
    assert.equal(
      narrow.out,
      ["NAME           STATUS        USABLE  NOT AFTER", "a.example.com  valid         yes     2030-03-01 00:00", "b.example.com  due (window)  yes     2030-01-20 00:00", "c.example.com  expired       NO      2030-01-05 00:00", ""].join("\n"),
    );
  });

  test("check --all through pipes: the lines and log lines as before, no escape sequence", async () => {
    const p = await s.cli(["check", "--all"], { env: clockEnv({ ACME_RENEW_NOW: NOW }) });
    assert.equal(p.code, 1);
    assert.equal(p.stdout.split("\n").filter(Boolean).length, 3);
    assert.match(p.stdout, /^a\.example\.com\tvalid\tusable\t/);
    assert.equal(p.stderr.split("\n").filter((l) => / \[event=check /.test(l)).length, 3, "one log line per certificate");
    assert.doesNotMatch(p.stdout + p.stderr, /\x1b|\r/);
  });

  test("status on a terminal: coloured, all columns at 200, the needed ones at 80", () => {
    const wide = onPty([...dirs(), "status"], { cols: 200 });
    assert.equal(
      wide.out,
      [
        `${b("NAME         ")}  ${b("NAMES                          ")}  ${b("ISSUER            ")}  ${b("NOT AFTER       ")}  ${b("DAYS")}  ${b("DECISION    ")}  ${b("NEXT RENEWAL            ")}  ${b("LAST ATTEMPT")}  ${b("LAST OUTCOME")}  ${b("FAILURES")}  ${b("NEXT ATTEMPT")}`,
        `a.example.com  a.example.com                    acme-renew test CA  2030-03-01 00:00  ${g("50  ")}  ${g("valid       ")}  2030-01-30 00:00 (local)  -             -             0         -`,
        `b.example.com  b.example.com,www.b.example.com  acme-renew test CA  2030-01-20 00:00  ${y("10  ")}  ${y("due (window)")}  2029-12-24 08:00 (local)  -             -             0         -`,
        `c.example.com  c.example.com                    acme-renew test CA  2030-01-05 00:00  ${r("-5  ")}  ${r("expired     ")}  2029-12-04 00:00 (local)  -             -             0         -`,
        "",
      ].join("\n"),
    );
    const narrow = onPty([...dirs(), "status"], { cols: 80 });
    assert.equal(
      narrow.out,
      [
        `${b("NAME         ")}  ${b("NOT AFTER       ")}  ${b("DAYS")}  ${b("DECISION    ")}  ${b("NEXT RENEWAL")}`,
        `a.example.com  2030-03-01 00:00  ${g("50  ")}  ${g("valid       ")}  2030-01-30 00:00 (local)`,
        `b.example.com  2030-01-20 00:00  ${y("10  ")}  ${y("due (window)")}  2029-12-24 08:00 (local)`,
        `c.example.com  2030-01-05 00:00  ${r("-5  ")}  ${r("expired     ")}  2029-12-04 00:00 (local)`,
        "",
      ].join("\n"),
    );
    for (const l of narrow.out.replace(/\x1b\[\d+m/g, "").split("\n")) assert.ok(l.length <= 80, l);
  });
});

describe("run over several certificates on a terminal", () => {
  const s = sandbox();
  before(async () => {
    for (const n of ["a.example.com", "d.example.com"]) {
      await writeCertDir(s.stateDir, n, { names: [n], notBefore: new Date("2029-12-01T00:00:00Z"), notAfter: new Date("2030-03-01T00:00:00Z") });
      s.writeConfig(n, { webroot: "/var/www", ari: false });
    }
  });
  const dirs = () => ["--config-dir", s.configDir, "--state-dir", s.stateDir];
  const notDue = (n: string) => `info: ${n}: valid until 2030-03-01T00:00:00.000Z, due at 2030-01-30T00:00:00.000Z [event=not-due cert=${n} status=valid renew_at=2030-01-30T00:00:00.000Z]\n`;
  const line = (t: string) => `\r${ESC}K${t}`;

  test("one status line, rewritten: done/total and each running certificate's stage; log lines above it; a summary at the end", () => {
    const t = onPty([...dirs(), "run", "--all", "--concurrency", "1"], { cols: 100 });
    assert.equal(t.code, 0);
    assert.equal(
      t.out,
      [
        line("[0/2] a.example.com (checking)"),
        line(notDue("a.example.com")),
        line("[0/2] a.example.com (checking)"),
        line("[1/2]"),
        line("[1/2] d.example.com (checking)"),
        line(notDue("d.example.com")),
        line("[1/2] d.example.com (checking)"),
        line("2 certificates: 2 not-due\n"),
      ].join(""),
    );
  });

  test("under systemd (INVOCATION_ID), or through a pipe: the log lines only", async () => {
    const t = onPty([...dirs(), "run", "--all", "--concurrency", "1"], { cols: 100, env: { INVOCATION_ID: "0123456789abcdef" } });
    assert.equal(t.out, notDue("a.example.com") + notDue("d.example.com"));
    const p = await s.cli(["run", "--all", "--concurrency", "1"], { env: clockEnv({ ACME_RENEW_NOW: NOW }) });
    assert.equal(p.stderr, notDue("a.example.com") + notDue("d.example.com"));
    assert.equal(p.stdout, "");
  });
});

describe("run's status line through a renewal (Pebble)", { timeout: 300_000 }, () => {
  let pebble: Pebble;
  before(async () => {
    pebble = await startPebble();
  });
  after(async () => {
    await pebble?.stop();
  });

  test("each certificate's stages as the renewal reports them to systemd: ordering, waiting for validation, finalizing, renewed", () => {
    const s = sandbox();
    for (const n of ["p.example.com", "q.example.com"]) s.writeConfig(n, { server: pebble.directoryUrl, caBundle: pebble.caBundle, acceptTerms: true, listenHTTP: `127.0.0.1:${pebble.httpPort}` });
    // The real clock: Pebble's certificates are dated now.
    const cmd = `stty cols 200 rows 40; exec ${q(process.execPath)} ${q(CLI)} --config-dir ${q(s.configDir)} --state-dir ${q(s.stateDir)} run --all --concurrency 1`;
    const r = spawnSync("script", ["-qec", cmd, "/dev/null"], { env: { PATH: process.env.PATH, HOME: process.env.HOME }, encoding: "utf8", timeout: 240_000 });
    assert.equal(r.status, 0, r.stdout);
    const frames = r.stdout.split("\r\x1b[K").filter((f) => f.startsWith("["));
    for (const n of ["p.example.com", "q.example.com"]) {
      const mine = frames.map((f) => new RegExp(`${n.replace(/\./g, "\\.")} \\(([^)]*)\\)`).exec(f)?.[1]).filter((x): x is string => !!x);
      const stages = mine.filter((x, i) => x !== mine[i - 1]).map((x) => x.replace(/, valid until .*/, ""));
      assert.deepEqual(stages, ["checking", "ordering", "waiting for validation", "finalizing", "renewed"], `${n}: ${mine.join(" | ")}`);
    }
    assert.match(r.stdout, /\r\x1b\[K2 certificates: 2 renewed\r?\n$/);
  });
});
