/**
 * The shipped systemd units: `scripts/verify-units.sh` (systemd-analyze verify in a throw-away root,
 * plus security --offline) must pass; it must also FAIL on a bad line in our units and must NOT fail
 * on a host unit's problem. The polkit rule is evaluated with a stand-in for polkit's JS API.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, test } from "node:test";
import vm from "node:vm";

const ROOT = resolve(import.meta.dirname, "../../..");
const SCRIPT = join(ROOT, "scripts/verify-units.sh");
const UNITS = join(ROOT, "systemd");
const NO_ANALYZE =
  spawnSync("sh", ["-c", "command -v systemd-analyze"]).status !== 0
    ? "systemd-analyze is not installed (Debian: apt-get install systemd) — CI installs it; the units were NOT verified"
    : false;

const tmp = mkdtempSync(join(tmpdir(), "acme-renew-units-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function verify(args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync("bash", [SCRIPT, ...args], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("systemd-analyze", { skip: NO_ANALYZE }, () => {
  test("verify-units.sh: the units as shipped and with every example drop-in are clean", () => {
    const r = verify();
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^ok {3}units: systemd-analyze verify acme-renew@example\.com\.service acme-renew@example\.com\.timer/m);
    assert.match(r.out, /^ok {3}drop-ins: /m);
    assert.match(r.out, /^ok {3}sysusers\.d/m);
    assert.match(r.out, /verify-units: all units clean/);
    // Informational, printed when this systemd-analyze has security --offline (≥ 250).
    const score = /Overall exposure level for acme-renew@example\.com\.service: ([\d.]+)/.exec(r.out);
    if (score) assert.ok(Number(score[1]) < 3, `exposure ${score[1]}`);
  });

  test("a bad line in our unit fails the run", () => {
    const bad = join(tmp, "bad");
    cpSync(UNITS, bad, { recursive: true });
    const f = join(bad, "acme-renew@.service");
    writeFileSync(f, readFileSync(f, "utf8").replace("UMask=0027\n", "UMask=0027\nFrobnicate=yes\n"));
    const r = verify([bad]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /FAIL units: .*\n.*Unknown key '?Frobnicate'?/);
  });

  test("a bad ExecStart in a drop-in fails the run", () => {
    const bad = join(tmp, "bad-dropin");
    cpSync(UNITS, bad, { recursive: true });
    writeFileSync(join(bad, "examples/webroot.conf"), "[Service]\nExecStartPre=/usr/bin/no-such-helper\n");
    const r = verify([bad]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /FAIL drop-ins: [^\n]*\n\s+acme-renew@example\.com\.service: Command \/usr\/bin\/no-such-helper is not executable/);
  });

  test("a problem in one of the host's own units is reported as ignored, not as a failure", () => {
    const host = join(tmp, "host-units");
    const src = ["/usr/lib/systemd/system", "/lib/systemd/system"].find((d) => spawnSync("test", ["-f", join(d, "sysinit.target")]).status === 0);
    assert.ok(src, "no host unit directory");
    cpSync(src, host, { recursive: true, verbatimSymlinks: true });
    writeFileSync(join(host, "zz-host-broken.service"), "[Service]\nExecStart=/bin/true\nBogusKey=1\n");
    mkdirSync(join(host, "sysinit.target.wants"), { recursive: true });
    symlinkSync("../zz-host-broken.service", join(host, "sysinit.target.wants/zz-host-broken.service"));
    const r = verify([], { VERIFY_UNITS_HOST_UNIT_DIR: host });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /ignored 1 line\(s\) about the host's own units[^\n]*\n\s+\S*zz-host-broken\.service:\d+: Unknown key '?BogusKey'?/);
  });
});

describe("unit contents", () => {
  const service = readFileSync(join(UNITS, "acme-renew@.service"), "utf8");
  const timer = readFileSync(join(UNITS, "acme-renew@.timer"), "utf8");
  const settings = (text: string) =>
    text
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#") && !l.startsWith(";") && !l.startsWith("["));

  test("service: the settings the tool's behaviour depends on", () => {
    const s = settings(service);
    for (const line of [
      "Type=oneshot",
      "ExecStart=/usr/bin/acme-renew run %i",
      "SuccessExitStatus=75",
      "RestartPreventExitStatus=78",
      "TimeoutStartSec=15min",
      "NotifyAccess=all",
      "Wants=network-online.target nss-lookup.target",
      "After=network-online.target nss-lookup.target",
      "User=acme-renew",
      "StateDirectory=acme-renew",
      "StateDirectoryMode=0750",
      "ConfigurationDirectory=acme-renew",
      "UMask=0027",
      "ProtectSystem=strict",
      "CapabilityBoundingSet=",
      "SystemCallFilter=@system-service",
    ]) {
      assert.ok(s.includes(line), `missing: ${line}`);
    }
    assert.ok(!s.some((l) => l.startsWith("Requires=") || l.startsWith("BindsTo=")), "never Requires=/BindsTo=");
    // V8's JIT needs W+X memory: MemoryDenyWriteExecute=yes would kill node at start.
    assert.ok(!s.some((l) => /^MemoryDenyWriteExecute=\s*(yes|true|on|1)/i.test(l)));
    assert.ok(!s.some((l) => l.startsWith("DynamicUser=")));
    // sd_notify's messages come from a child: anything but "all" would drop them.
    assert.equal(s.filter((l) => l.startsWith("NotifyAccess=")).length, 1);
  });

  test("timer: twice a day, randomized, persistent", () => {
    const s = settings(timer);
    for (const line of ["OnCalendar=*-*-* 00,12:00:00", "RandomizedDelaySec=1h", "Persistent=true", "AccuracySec=1min", "WantedBy=timers.target"]) {
      assert.ok(s.includes(line), `missing: ${line}`);
    }
  });

  test("nginx drop-in: Wants= and After=, never Requires=", () => {
    const s = settings(readFileSync(join(UNITS, "examples/nginx-acme-renew.conf"), "utf8"));
    assert.ok(s.includes("Wants=acme-renew@example.com.service"));
    assert.ok(s.includes("After=acme-renew@example.com.service"));
    assert.ok(!s.some((l) => /^(Requires|BindsTo|Requisite)=/.test(l)));
  });
});

describe("polkit rule", () => {
  type Rule = (action: { id: string; lookup(k: string): string | undefined }, subject: { user: string }) => string;
  const rules: Rule[] = [];
  const polkit = { Result: { YES: "yes", NO: "no", NOT_HANDLED: null as unknown as string }, addRule: (f: Rule) => rules.push(f) };
  vm.runInNewContext(readFileSync(join(UNITS, "polkit/10-acme-renew.rules"), "utf8"), { polkit });
  const decide = (user: string, unit: string, verb: string, id = "org.freedesktop.systemd1.manage-units") =>
    rules[0]!({ id, lookup: (k) => ({ unit, verb })[k] }, { user });

  test("one rule", () => assert.equal(rules.length, 1));

  test("acme-renew may reload-or-try-restart a listed unit (what `systemctl try-reload-or-restart` asks)", () => {
    assert.equal(decide("acme-renew", "nginx.service", "reload-or-try-restart"), "yes");
    assert.equal(decide("acme-renew", "nginx.service", "reload"), "yes");
  });

  test("everything else is left to the other rules", () => {
    assert.equal(decide("acme-renew", "nginx.service", "stop"), null);
    assert.equal(decide("acme-renew", "nginx.service", "start"), null);
    assert.equal(decide("acme-renew", "nginx.service", "reload-or-restart"), null);
    assert.equal(decide("acme-renew", "sshd.service", "reload-or-try-restart"), null);
    assert.equal(decide("www-data", "nginx.service", "reload-or-try-restart"), null);
    assert.equal(decide("acme-renew", "nginx.service", "reload-or-try-restart", "org.freedesktop.systemd1.manage-unit-files"), null);
  });
});
