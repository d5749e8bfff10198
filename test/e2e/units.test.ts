/**
 * The shipped systemd units: `scripts/verify-units.sh` (systemd-analyze verify in a throw-away root,
 * plus security --offline) must pass; it must also FAIL on a bad line in our units and must NOT fail
 * on a host unit's problem. The polkit rule is evaluated with a stand-in for polkit's JS API.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
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
    assert.match(r.out, /^ok {3}units: systemd-analyze verify acme-renew@example\.com\.service acme-renew@example\.com\.timer acme-renew-ready@example\.com\.service/m);
    assert.match(r.out, /^ok {3}drop-ins: systemd-analyze verify .*acme-renew-ready@example\.com\.service nginx\.service apache2\.service caddy\.service/m);
    assert.match(r.out, /^ok {3}drop-ins: /m);
    assert.match(r.out, /^ok {3}sysusers\.d/m);
    assert.match(r.out, /verify-units: all units clean/);
    // Informational, printed when this systemd-analyze has security --offline (≥ 250).
    const score = /Overall exposure level for acme-renew@example\.com\.service: ([\d.]+)/.exec(r.out);
    if (score) assert.ok(Number(score[1]) < 3, `exposure ${score[1]}`);
  });

  test("systemd refuses RestartForceExitStatus= on Type=oneshot (why the renewal is Type=exec)", () => {
    const bad = join(tmp, "oneshot");
    cpSync(UNITS, bad, { recursive: true });
    const f = join(bad, "acme-renew@.service");
    writeFileSync(f, readFileSync(f, "utf8").replace("Type=exec\n", "Type=oneshot\n"));
    const r = verify([bad]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /RestartForceExitStatus= set, which isn't allowed for Type=oneshot services/);
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
  const ready = readFileSync(join(UNITS, "acme-renew-ready@.service"), "utf8");
  const timer = readFileSync(join(UNITS, "acme-renew@.timer"), "utf8");
  const settings = (text: string) =>
    text
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#") && !l.startsWith(";") && !l.startsWith("["));

  test("renewal service: the settings the tool's behaviour depends on", () => {
    const s = settings(service);
    for (const line of [
      "Type=exec",
      "ExecStart=/usr/bin/acme-renew run %i",
      "SuccessExitStatus=75 3",
      "Restart=on-failure",
      "RestartForceExitStatus=3",
      "RestartSec=15min",
      "RestartPreventExitStatus=78 64",
      "RuntimeMaxSec=15min",
      "NotifyAccess=all",
      "Wants=network-online.target",
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
    assert.ok(!s.some((l) => l.startsWith("Before=")), "nothing waits for the renewal");
    // V8's JIT needs W+X memory: MemoryDenyWriteExecute=yes would kill node at start.
    assert.ok(!s.some((l) => /^MemoryDenyWriteExecute=\s*(yes|true|on|1)/i.test(l)));
    assert.ok(!s.some((l) => l.startsWith("DynamicUser=")));
    // sd_notify's messages come from a child: anything but "all" would drop them.
    assert.equal(s.filter((l) => l.startsWith("NotifyAccess=")).length, 1);
  });

  test("ready service: oneshot, RemainAfterExit, the ready command, no network at all", () => {
    const s = settings(ready);
    for (const line of ["Type=oneshot", "RemainAfterExit=yes", "ExecStart=/usr/bin/acme-renew ready %i", "PrivateNetwork=yes", "RestrictAddressFamilies=AF_UNIX", "IPAddressDeny=any", "User=acme-renew", "StateDirectory=acme-renew", "ProtectSystem=strict"]) {
      assert.ok(s.includes(line), `missing: ${line}`);
    }
    assert.ok(!s.some((l) => /network|nss-lookup/.test(l) && /^(Wants|Requires|After|BindsTo|Requisite)=/.test(l)), "no network dependency");
    const timeout = /^TimeoutStartSec=(\d+)s$/.exec(s.find((l) => l.startsWith("TimeoutStartSec=")) ?? "");
    assert.ok(timeout && Number(timeout[1]) <= 60, "a web server waits for it: a tight bound");
  });

  test("timer: once after boot, then hourly at a fixed per-host offset; on clock steps", () => {
    const s = settings(timer);
    for (const line of ["OnBootSec=1min", "OnCalendar=hourly", "RandomizedDelaySec=15min", "FixedRandomDelay=true", "OnClockChange=true", "WantedBy=timers.target"]) {
      assert.ok(s.includes(line), `missing: ${line}`);
    }
  });

  test("web server drop-ins (nginx, apache2, caddy): Wants= + After= the ready unit, Before= the renewal, never Requires=", () => {
    for (const w of ["nginx", "apache2", "caddy"]) {
      const s = settings(readFileSync(join(UNITS, `examples/${w}-acme-renew.conf`), "utf8"));
      assert.ok(s.includes("Wants=acme-renew-ready@example.com.service"), w);
      assert.ok(s.includes("After=acme-renew-ready@example.com.service"), w);
      assert.ok(s.includes("Before=acme-renew@example.com.service"), w);
      assert.ok(!s.some((l) => /^(Requires|BindsTo|Requisite)=/.test(l)), w);
    }
  });
});

/**
 * The boot path as a graph over the shipped files: every unit a web server is ordered after (through
 * the example drop-ins, transitively through our units) must neither depend on the network nor run
 * the renewal. Drop-ins are applied to the unit their own "install" line names.
 */
describe("boot path (unit graph)", () => {
  type Unit = Map<string, string[]>;
  const DEPS = ["After", "Wants", "Requires", "Requisite", "BindsTo", "PartOf", "Upholds"];
  const parse = (text: string, into: Unit = new Map()) => {
    for (const raw of text.split("\n")) {
      const l = raw.trim();
      const m = /^([A-Za-z]+)=(.*)$/.exec(l);
      if (!m || l.startsWith("#")) continue;
      const [, k, v] = m as unknown as [string, string, string];
      const list = into.get(k) ?? [];
      list.push(...(DEPS.includes(k) || k === "Before" ? v.split(/\s+/).filter(Boolean) : [v]));
      into.set(k, list);
    }
    return into;
  };
  const instance = (text: string, i: string) => text.replace(/%i/g, i);

  /** Our units as installed for instance example.com, with every example drop-in applied. */
  function installed(dir: string): Map<string, Unit> {
    const units = new Map<string, Unit>();
    for (const f of readdirSync(dir).filter((f) => /\.(service|timer)$/.test(f))) {
      units.set(f.replace("@.", "@example.com."), parse(instance(readFileSync(join(dir, f), "utf8"), "example.com")));
    }
    for (const f of readdirSync(join(dir, "examples"))) {
      const text = readFileSync(join(dir, "examples", f), "utf8");
      const target = /\/etc\/systemd\/system\/([^/\s]+)\.d\//.exec(text)?.[1];
      assert.ok(target, `examples/${f}: no "install … /etc/systemd/system/<unit>.d/" line`);
      const name = target.replace("@.", "@example.com.");
      units.set(name, parse(instance(text, "example.com"), units.get(name) ?? new Map()));
    }
    return units;
  }

  function violations(dir: string): string[] {
    const units = installed(dir);
    const webServers = [...units.keys()].filter((n) => !n.startsWith("acme-renew"));
    assert.deepEqual(webServers.sort(), ["apache2.service", "caddy.service", "nginx.service"]);
    const out: string[] = [];
    for (const w of webServers) {
      const seen = new Set<string>();
      const walk = (name: string, path: string[]) => {
        if (seen.has(name)) return;
        seen.add(name);
        const u = units.get(name);
        if (!u) return; // not ours (sysinit.target, …)
        for (const dep of DEPS.flatMap((k) => u.get(k) ?? [])) {
          if (/^network(-online|-pre)?\.target$|^nss-lookup\.target$/.test(dep)) out.push(`${[...path, name].join(" → ")} depends on ${dep}`);
        }
        for (const cmd of u.get("ExecStart") ?? []) if (/\sacme-renew\s+run\b|\srun\s/.test(` ${cmd} `)) out.push(`${[...path, name].join(" → ")} runs "${cmd}"`);
        for (const next of u.get("After") ?? []) walk(next, [...path, name]);
      };
      for (const next of units.get(w)!.get("After") ?? []) walk(next, [w]);
    }
    // Nothing waits for the renewal: no unit of ours is ordered after it.
    for (const [n, u] of units) if ((u.get("After") ?? []).includes("acme-renew@example.com.service")) out.push(`${n} is ordered after the renewal`);
    return out;
  }

  test("no unit a web server is ordered after depends on network-online.target or runs `run`; the renewal runs after the web servers", () => {
    assert.deepEqual(violations(UNITS), []);
    const units = installed(UNITS);
    for (const w of ["nginx.service", "apache2.service", "caddy.service"]) {
      assert.ok(units.get(w)!.get("Before")!.includes("acme-renew@example.com.service"), `the renewal is ordered after ${w}`);
      assert.ok(units.get(w)!.get("Wants")!.includes("acme-renew-ready@example.com.service"));
    }
    assert.ok(units.get("acme-renew@example.com.service")!.get("After")!.includes("network-online.target"));
  });

  test("the check fails for the old layout (nginx ordered after the renewal unit)", () => {
    const old = join(tmp, "old-layout");
    cpSync(UNITS, old, { recursive: true });
    const f = join(old, "examples/nginx-acme-renew.conf");
    writeFileSync(f, readFileSync(f, "utf8").replace("After=acme-renew-ready@example.com.service", "After=acme-renew@example.com.service"));
    const v = violations(old);
    assert.ok(v.some((x) => /nginx\.service → acme-renew@example\.com\.service depends on network-online\.target/.test(x)), v.join("\n"));
    assert.ok(v.some((x) => /runs "\/usr\/bin\/acme-renew run example\.com"/.test(x)), v.join("\n"));
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
