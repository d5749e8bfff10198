/** Runs the built CLI (dist/acme-renew.js) as a child process. */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

export const ROOT = resolve(import.meta.dirname, "../../..");
export const CLI = join(ROOT, "dist/acme-renew.js");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The test-only clock (fake-clock.ts): ACME_RENEW_NOW in `env` sets the child's clock. */
export const FAKE_CLOCK = join(ROOT, "build/test/helpers/fake-clock.js");

/** Node's compile cache of the CLI children (src/cli/compile-cache.ts): under the temp dir, not /var/cache. */
export const TEST_COMPILE_CACHE = join(tmpdir(), "acme-renew-test-compile-cache");

/** The environment a CLI child gets: PATH and HOME, the compile cache, `env`, and the fake clock when ACME_RENEW_NOW is set. */
export function childEnv(env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_COMPILE_CACHE: TEST_COMPILE_CACHE, ...env };
  if (e.ACME_RENEW_NOW !== undefined) e.NODE_OPTIONS = `${e.NODE_OPTIONS ? `${e.NODE_OPTIONS} ` : ""}--import=${pathToFileURL(FAKE_CLOCK).href}`;
  return e;
}

export interface CliOptions {
  /** ACME_RENEW_NOW=<ISO time> sets the child's clock (test only, see fake-clock.ts). */
  env?: NodeJS.ProcessEnv;
  /** Run under a wrapper, e.g. ["unshare", "-n"]. */
  wrapper?: string[];
  timeoutMs?: number;
  /** Working directory of the child (default: the test's). */
  cwd?: string;
  /** Sees stderr as it arrives (e.g. to act when the run reaches a stage). */
  onStderr?: (chunk: string) => void;
}

export function runCli(args: string[], o: CliOptions = {}): Promise<CliResult> {
  const cmd = [...(o.wrapper ?? []), process.execPath, CLI, ...args];
  const t0 = Date.now();
  return new Promise((res, rej) => {
    const child = spawn(cmd[0]!, cmd.slice(1), {
      env: childEnv(o.env),
      cwd: o.cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => {
      stderr += d;
      o.onStderr?.(String(d));
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), o.timeoutMs ?? 60_000);
    child.on("error", rej);
    child.on("close", (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** A fresh config dir + state dir; `cli()` runs the CLI pointed at them. */
export function sandbox(prefix = "acme-renew-test-") {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const configDir = join(root, "etc");
  const stateDir = join(root, "state");
  mkdirSync(configDir);
  mkdirSync(stateDir);
  return {
    root,
    configDir,
    stateDir,
    writeConfig(name: string, cfg: unknown) {
      const file = join(configDir, `${name}.json`);
      writeFileSync(file, typeof cfg === "string" ? cfg : JSON.stringify(cfg, null, 2));
      return file;
    },
    cli(args: string[], o: CliOptions = {}) {
      return runCli(["--config-dir", configDir, "--state-dir", stateDir, ...args], o);
    },
  };
}
