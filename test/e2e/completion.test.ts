/**
 * `acme-renew completion bash|zsh` (issue 15): yargs' scripts, run by the real shells against the
 * built CLI: commands, options, choices, and the certificate names of the config dir.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI, sandbox } from "../helpers/cli.js";

describe("shell completion", { timeout: 120_000 }, () => {
  const s = sandbox();
  const bin = join(s.root, "bin");
  before(() => {
    mkdirSync(bin);
    // The scripts call `acme-renew` from PATH.
    writeFileSync(join(bin, "acme-renew"), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    chmodSync(join(bin, "acme-renew"), 0o755);
    for (const n of ["a.example.com", "ab.example.com", "b.example.com"]) s.writeConfig(n, { webroot: "/var/www" });
  });
  const env = () => ({ PATH: `${bin}:${process.env.PATH}`, HOME: s.root, ACME_RENEW_CONFIG_DIR: s.configDir });
  const shell = (sh: string, script: string) => {
    const r = spawnSync(sh, ["-c", script], { env: env(), encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, `${sh}: ${r.stderr}`);
    return r.stdout.split("\n").filter(Boolean);
  };

  /** What bash offers for the words typed (the last one being completed). */
  const bash = (...words: string[]) =>
    shell("bash", `source <(acme-renew completion bash) && COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}) && COMP_CWORD=${words.length - 1} && _acme-renew_yargs_completions && printf '%s\\n' "\${COMPREPLY[@]}"`);

  test("bash: commands, options, choices and certificate names", () => {
    assert.deepEqual(bash("acme-renew", "ru"), ["run"]);
    assert.deepEqual(bash("acme-renew", "im"), ["import"]);
    assert.deepEqual(bash("acme-renew", "run", "--fo"), ["--force"]);
    assert.deepEqual(bash("acme-renew", "import", "").filter((w) => !w.startsWith("-")), ["certbot", "lego", "acme.sh", "nixos"]);
    assert.deepEqual(bash("acme-renew", "check", "a"), ["a.example.com", "ab.example.com"]);
    assert.deepEqual(bash("acme-renew", "delete", "b"), ["b.example.com"]);
    assert.deepEqual(bash("acme-renew", "completion", "").filter((w) => !w.startsWith("-")), ["bash", "zsh"]);
  });

  test("zsh: the script loads, and its function answers with descriptions (compdef and _describe stubbed)", () => {
    const script = spawnSync(process.execPath, [CLI, "completion", "zsh"], { encoding: "utf8" }).stdout;
    assert.match(script, /^#compdef acme-renew/);
    const n = spawnSync("zsh", ["-n", "-c", script], { encoding: "utf8" });
    assert.equal(n.status, 0, n.stderr);
    const offer = (...words: string[]) =>
      shell(
        "zsh",
        `compdef() { : }; _describe() { print -l -- "\${(@P)2}" }; eval "$(acme-renew completion zsh)"; words=(${words.map((w) => `'${w}'`).join(" ")}); CURRENT=${words.length}; BUFFER="${words.join(" ")}"; CURSOR=\${#BUFFER}; SHELL=zsh _acme-renew_yargs_completions`,
      );
    assert.ok(offer("acme-renew", "").includes("run:renew what is due (pre-check first; the CA is contacted only when needed)"));
    assert.deepEqual(offer("acme-renew", "status", "ab").filter((w) => !w.startsWith("-")), ["ab.example.com:certificate"]);
  });

  test("completion with no shell named follows $SHELL; a shell it does not know is a usage error", () => {
    const z = spawnSync(process.execPath, [CLI, "completion"], { env: { ...env(), SHELL: "/usr/bin/zsh" }, encoding: "utf8" });
    assert.match(z.stdout, /^#compdef acme-renew/);
    const b = spawnSync(process.execPath, [CLI, "completion"], { env: { ...env(), SHELL: "/bin/bash" }, encoding: "utf8" });
    assert.match(b.stdout, /complete -o bashdefault -o default -F _acme-renew_yargs_completions acme-renew/);
    const f = spawnSync(process.execPath, [CLI, "completion", "fish"], { encoding: "utf8" });
    assert.equal(f.status, 64, f.stderr);
  });
});
