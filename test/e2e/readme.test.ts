/**
 * The READMEs' commands work (issue 11, item 18): every `acme-renew …` command of README.md — the
 * command lines of its ```sh blocks and the commands in its text, synopses like
 * `acme-renew run <name…> \| --all [--force] [--timeout S]` expanded into each form — runs against a
 * temporary config with a certificate from a real Pebble and must exit 0. Unit names and example
 * files named in the shell blocks of README.md and systemd/README.md must exist. And the metrics
 * example works under the unit's ProtectSystem=strict (emulated: a private mount namespace in which
 * everything is read-only but the state directory and the drop-in's ReadWritePaths=).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, ROOT, runCli, sandbox } from "../helpers/cli.js";
import { startPebble, type Pebble } from "../helpers/pebble.js";
import { writeCertDir } from "../helpers/pki.js";
import { acmeShHome, certbotDir, legoDir, nixosDir } from "../helpers/peer-fixtures.js";

const NAME = "a.example.com";

/** Shell lines of the ```sh blocks (comments and blank lines dropped). */
function shellLines(markdown: string): string[] {
  const out: string[] = [];
  for (const m of markdown.matchAll(/^```(?:sh|bash)\n([\s\S]*?)^```/gm)) {
    for (const raw of m[1]!.split("\n")) {
      const line = raw.replace(/\s+#.*$/, "").trim();
      if (line && !line.startsWith("#")) out.push(line);
    }
  }
  return out;
}

/** `acme-renew …` in inline code outside the shell blocks; `\|` is a table's escaped pipe. */
function inlineCommands(markdown: string): string[] {
  const text = markdown.replace(/^```[\s\S]*?^```/gm, "");
  return [...text.matchAll(/`(acme-renew [^`]+)`/g)].map((m) => m[1]!.replace(/\\\|/g, "|"));
}

/**
 * The concrete command lines a synopsis stands for: `<name…>`/`<name>` a certificate, `[name…]`
 * with and without one, `A | --all` either side, `[SHELL]` with and without, every `[--flag VALUE]`
 * all on and all off; word alternatives (`certbot|lego|…`) each, with their own values
 * (`KEY:word` before `KEY`) and `[DIR]` always given. `KEY:command` values apply to one command.
 */
export function expand(synopsis: string, values: Record<string, string>): string[][] {
  const flags = [...synopsis.matchAll(/\[(--[a-z-]+)(?: ([A-Z=]+))?\]/g)].map((m) => [m[1]!, m[2]] as const);
  const head = synopsis.replace(/\s*\[--[a-z-]+(?: [A-Z=]+)?\]/g, "").trim();
  const [first, ...rest] = head.split(/\s+/).slice(1); // drop "acme-renew"
  // Subcommands and fixed flags (`account show`, `run --dry-run`) belong to the command.
  const prefix: string[] = [];
  while (rest[0] && rest[0] !== "--all" && /^(--)?[a-z][a-z-]*$/.test(rest[0])) prefix.push(rest.shift()!);
  const cmd = [first!, ...prefix].join(" ");
  const forms: string[][] = [];
  const withFlags = (base: string[], v: (k: string) => string) => {
    forms.push(base);
    if (flags.length) forms.push([...base, ...flags.flatMap(([f, val]) => [f, ...(val ? [v(val)] : [])])]);
  };
  if (rest[0] && /^[a-z.]+(\|[a-z.]+)+$/.test(rest[0])) {
    for (const word of rest[0].split("|")) {
      const v = (k: string) => values[`${k}:${word}`] ?? values[k] ?? k;
      withFlags([...cmd.split(" "), word, ...rest.slice(1).map((p) => (/^\[[A-Z]+\]$/.test(p) ? v(p.slice(1, -1)) : p))], v);
    }
    return forms;
  }
  const v = (k: string) => values[`${k}:${cmd}`] ?? values[`${k}:${first}`] ?? values[k] ?? k;
  const sel = rest.join(" ");
  const selections: string[][] = [];
  for (const alt of sel ? sel.split(/\s*\|\s*/) : [""]) {
    if (alt === "") selections.push([]);
    else if (/^<name…?>$/.test(alt)) selections.push([v("name")]);
    else if (/^\[name…?\]$/.test(alt)) selections.push([], [v("name")]);
    else if (/^\[[A-Z]+\]$/.test(alt)) selections.push([], [v(alt.slice(1, -1))]);
    else if (alt === "--all") selections.push(["--all"]);
    else throw new Error(`synopsis part not understood: ${alt} (in ${synopsis})`);
  }
  for (const s of selections) withFlags([...cmd.split(" "), ...s], v);
  return forms;
}

const words = (line: string) => line.match(/'[^']*'|"[^"]*"|\S+/g)!.map((w) => w.replace(/^['"]|['"]$/g, ""));

describe("README commands", { timeout: 300_000 }, () => {
  let pebble: Pebble;
  let s: ReturnType<typeof sandbox>;
  let out: string;
  /** The other clients' state `import` reads (the README's directories, in the sandbox), and the names in it. */
  const peers: Record<string, { dir: string; name: string }> = {};
  before(async () => {
    pebble = await startPebble();
    s = sandbox();
    out = mkdtempSync(join(tmpdir(), "acme-renew-readme-"));
    // stagingServer: `run --dry-run` orders from the same Pebble.
    s.writeConfig(NAME, { acceptTerms: true, server: pebble.directoryUrl, stagingServer: pebble.directoryUrl, caBundle: pebble.caBundle, listenHTTP: `127.0.0.1:${pebble.httpPort}` });
    // What lego and NixOS do not record (server, a challenge), as the README suggests: in defaults.json.
    writeFileSync(join(s.configDir, "defaults.json"), JSON.stringify({ acceptTerms: true, server: pebble.directoryUrl, caBundle: pebble.caBundle, webroot: out }));
    const r = await s.cli(["run", NAME]);
    assert.equal(r.code, 0, r.stderr);
    const host = new URL(pebble.directoryUrl).host;
    peers.certbot = { name: "ci.example.com", dir: await certbotDir([{ name: "ci.example.com", names: ["ci.example.com"], params: { authenticator: "standalone", http01_port: String(pebble.httpPort), http01_address: "127.0.0.1", server: pebble.directoryUrl, key_type: "ecdsa" } }]) };
    peers.lego = { name: "li.example.com", dir: await legoDir([{ domain: "li.example.com" }], { host, email: "ops@example.com" }) };
    peers["acme.sh"] = { name: "example.org", dir: await acmeShHome([{ domain: "example.org", alt: ["www.example.org"], conf: {} }]) };
    peers.nixos = { name: "ni.example.com", dir: await nixosDir(["ni.example.com"]) };
  });
  after(async () => {
    await pebble?.stop();
  });

  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const env = () => ({ ACME_RENEW_CONFIG_DIR: s.configDir, ACME_RENEW_STATE_DIR: s.stateDir });
  /** The README's paths, pointed into the sandbox. */
  const local = (w: string) =>
    w
      .replace(/^\/var\/lib\/prometheus\/node-exporter\//, `${out}/`)
      .replace(/^\/etc\/letsencrypt$/, peers.certbot!.dir)
      .replace(/^\/root\/\.lego$/, peers.lego!.dir)
      .replace(/^\/root\/\.acme\.sh$/, peers["acme.sh"]!.dir)
      .replace(/^\/var\/lib\/acme$/, peers.nixos!.dir);
  const OLD = "old.example.com";
  /**
   * What a command needs first, as on a machine where it makes sense: `delete` a certificate whose
   * config is gone; `import --write` a machine that has not imported yet (each form imports anew).
   */
  async function prepare(args: string[]) {
    if (args[0] === "delete" && !existsSync(join(s.stateDir, OLD))) await writeCertDir(s.stateDir, OLD, { names: [OLD] });
    if (args[0] === "import" && args.includes("--write")) {
      for (const p of Object.values(peers)) {
        rmSync(join(s.configDir, `${p.name}.json`), { force: true });
        rmSync(join(s.stateDir, p.name), { recursive: true, force: true });
      }
    }
  }

  test("every acme-renew command in README.md's text runs (synopses in each form) and exits 0", async () => {
    const commands = inlineCommands(readme);
    assert.ok(commands.some((c) => c.startsWith("acme-renew ready")), "the README names ready");
    const values: Record<string, string> = { name: NAME, S: "60", N: "2", REASON: "superseded", URL: pebble.directoryUrl, FILE: join(out, "synopsis.prom"), SHELL: "bash", "name:delete": OLD };
    for (const [tool, p] of Object.entries(peers)) Object.assign(values, { [`DIR:${tool}`]: p.dir, [`NAME:${tool}`]: p.name, [`FIELD=VALUE:${tool}`]: `caBundle=${pebble.caBundle}` });
    const runs: string[] = [];
    for (const c of new Set(commands)) {
      const forms = /[<[|]/.test(c) ? expand(c, values) : [words(c).slice(1)];
      for (const f of forms) {
        const args = f.map((w) => (w === "<name>" ? NAME : local(w)));
        await prepare(args);
        const r = await runCli(args, { env: env(), timeoutMs: 120_000 });
        runs.push(`acme-renew ${args.join(" ")} → ${r.code}`);
        assert.equal(r.code, 0, `acme-renew ${args.join(" ")} (README: \`${c}\`)\n${r.stderr}`);
      }
    }
    assert.ok(runs.length >= 20, runs.join("\n"));
    for (const form of ["import certbot", "import lego", "import acme.sh", "import nixos", "--write", "delete old.example.com --force", "completion bash", "run --dry-run a.example.com --server", "revoke a.example.com --reason superseded", "account show a.example.com", "account deactivate --yes a.example.com"]) {
      assert.ok(runs.some((r) => r.includes(form)), `a form with "${form}" ran:\n${runs.join("\n")}`);
    }
    assert.ok(existsSync(values.FILE!), "status --prometheus FILE wrote the file");
  });

  test("every acme-renew command line of README.md's shell blocks runs and exits 0", async () => {
    const lines = shellLines(readme).filter((l) => /^(acme-renew|node dist\/acme-renew\.js)\s/.test(l));
    assert.ok(lines.some((l) => /^acme-renew status --all --prometheus /.test(l)), "the metrics command is a shell line");
    for (const line of lines) {
      const w = words(line);
      const args = (w[0] === "node" ? w.slice(2) : w.slice(1)).map(local);
      await prepare(args);
      const r = await runCli(args, { env: env(), timeoutMs: 120_000 });
      assert.equal(r.code, 0, `${line}\n${r.stderr}`);
    }
    const prom = readFileSync(join(out, "acme-renew.prom"), "utf8");
    assert.match(prom, new RegExp(`acme_renew_cert_usable\\{name="${NAME.replace(/\./g, "\\.")}"\\} 1`));
  });

  test("the units and example files named in the shell blocks of README.md and systemd/README.md exist", () => {
    const shipped = readdirSync(join(ROOT, "systemd"));
    const examples = readdirSync(join(ROOT, "systemd/examples"));
    const lines = [...shellLines(readme), ...shellLines(readFileSync(join(ROOT, "systemd/README.md"), "utf8"))];
    let units = 0;
    for (const line of lines) {
      for (const m of line.matchAll(/(acme-renew[a-z-]*)@([^\s'"]*)\.(service|timer)/g)) {
        units++;
        assert.ok(shipped.includes(`${m[1]}@.${m[3]}`), `${line}: no systemd/${m[1]}@.${m[3]}`);
      }
      for (const m of line.matchAll(/(?:^|[\s/])((?:examples\/)?[a-z0-9-]+\.conf)\b/g)) {
        const f = m[1]!.replace(/^examples\//, "");
        if (m[1]!.startsWith("examples/") || examples.includes(f)) assert.ok(examples.includes(f), `${line}: no systemd/examples/${f}`);
      }
    }
    assert.ok(units >= 5, `${units} unit names checked`);
  });
});

describe("metrics under ProtectSystem=strict (emulated)", { timeout: 120_000, skip: process.getuid?.() !== 0 ? "needs root (mount namespace)" : false }, () => {
  const dropin = readFileSync(join(ROOT, "systemd/examples/metrics.conf"), "utf8");
  const value = (k: string) => [...dropin.matchAll(new RegExp(`^${k}=(.*)$`, "gm"))].map((m) => m[1]!.trim());
  const rwPaths = value("ReadWritePaths").flatMap((v) => v.split(/\s+/));
  const [stopPost] = value("ExecStopPost");

  /**
   * Runs `args` in a private mount namespace set up like the unit's sandbox: /var/lib is a fresh
   * tmpfs holding the state directory (the sandbox's, bound to /var/lib/acme-renew) and the drop-in's
   * directories; then every mount is made read-only (ProtectSystem=strict) and the state directory
   * and `rw` writable again. Prints the file `prom` afterwards (it lives only in the namespace).
   */
  function strict(stateDir: string, configDir: string, rw: string[], args: string[], prom: string) {
    const script = [
      "mount -t tmpfs tmpfs /var/lib || exit 98",
      `mkdir -p /var/lib/acme-renew ${rwPaths.join(" ")}`,
      'mount --bind "$STATE" /var/lib/acme-renew',
      "for mp in $(awk '{print $5}' /proc/self/mountinfo | sort -r); do",
      "  case $mp in /proc*|/sys*|/dev*) continue;; esac",
      '  mount -o remount,bind,ro "$mp" 2>/dev/null',
      "done",
      `for p in /var/lib/acme-renew ${rw.join(" ")}; do mount --bind "$p" "$p" && mount -o remount,bind,rw "$p" || exit 98; done`,
      'if touch /var/lib/probe 2>/dev/null || touch "$CONFIG/probe" 2>/dev/null; then echo "sandbox not read-only" >&2; exit 99; fi',
      '"$@"; rc=$?',
      'cat "$PROM" 2>/dev/null',
      "exit $rc",
    ].join("\n");
    const r = spawnSync("unshare", ["-m", "--propagation", "private", "sh", "-c", script, "sh", process.execPath, CLI, ...args], {
      env: { PATH: process.env.PATH, STATE: stateDir, CONFIG: configDir, PROM: prom, ACME_RENEW_CONFIG_DIR: configDir },
      encoding: "utf8",
      timeout: 60_000,
    });
    return { code: r.status, stderr: r.stderr, stdout: r.stdout };
  }

  test("the drop-in's ExecStopPost= (= the README's command) writes the textfile into its ReadWritePaths=, and only there", async () => {
    assert.ok(stopPost && rwPaths.length, "metrics.conf has ReadWritePaths= and ExecStopPost=");
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const readmeCmd = shellLines(readme).find((l) => l.startsWith("acme-renew status --all --prometheus "));
    assert.equal(stopPost.replace(/^\/usr\/bin\//, ""), readmeCmd, "README and drop-in run the same command");
    const args = words(stopPost).slice(1);
    const file = args[args.length - 1]!;
    assert.ok(rwPaths.some((p) => file.startsWith(`${p}/`)), `${file} lies in ReadWritePaths=`);

    const s = sandbox();
    s.writeConfig(NAME, { webroot: "/var/www" });
    await writeCertDir(s.stateDir, NAME, { names: [NAME] });
    const ok = strict(s.stateDir, s.configDir, rwPaths, args, file);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`^acme_renew_cert_usable\\{name="${NAME.replace(/\./g, "\\.")}"\\} 1$`, "m"), "the textfile, written");
    // Without ReadWritePaths= the same command meets a read-only file system: the emulation bites.
    const denied = strict(s.stateDir, s.configDir, [], args, file);
    assert.equal(denied.code, 1, denied.stderr);
    assert.match(denied.stderr, /cannot write .*acme-renew\.prom: EROFS/);
  });
});
