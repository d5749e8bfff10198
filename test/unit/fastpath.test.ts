import { test } from "node:test";
import assert from "node:assert/strict";
import { fastParse } from "../../src/cli/fastpath.js";
import { parseAndRun, type Handlers } from "../../src/cli/parser.js";

/** What yargs (the reference definition) makes of argv, as the handler sees it. */
async function viaYargs(argv: string[]) {
  let seen: Record<string, unknown> | null = null;
  let command = "";
  const capture = (c: string) => (a: never) => {
    command = c;
    seen = a;
    return 0 as const;
  };
  const names = ["check", "ready", "run", "validate", "schema", "doctor", "status", "import", "delete", "completion"] as const;
  const h = Object.fromEntries(names.map((n) => [n, capture(n)])) as Handlers;
  await parseAndRun(argv, () => {}, h);
  const a = seen as unknown as Record<string, unknown>;
  return {
    command,
    names: (a.names as string[] | undefined) ?? [],
    all: !!a.all,
    json: !!a.json,
    force: !!a.force,
    configDir: a.configDir,
    stateDir: a.stateDir,
    logFormat: a.logFormat,
  };
}

const CASES = [
  ["check", "a.example.com"],
  ["check", "--all"],
  ["check", "a.example.com", "b.example.com", "--json"],
  ["--config-dir", "/c", "--state-dir=/s", "check", "x"],
  ["check", "--log-format", "journal", "x", "--config-dir=/c"],
  ["ready", "x"],
  ["ready", "--all", "--log-format=json"],
  ["--state-dir", "/s", "ready", "a.example.com", "b.example.com"],
  ["run", "x"],
  ["run", "--all", "--force"],
  ["run", "x", "--json"],
];

test("fast path and yargs agree on the plain shapes of check, ready and run", async () => {
  for (const argv of CASES) {
    const fast = fastParse(argv, {});
    assert.ok(fast, `fast path declined ${argv.join(" ")}`);
    const ref = await viaYargs(argv);
    const mine = { command: fast.command, names: fast.names, all: fast.all, json: fast.json, force: fast.force, configDir: fast.configDir, stateDir: fast.stateDir, logFormat: fast.logFormat };
    assert.deepEqual(mine, ref, argv.join(" "));
  }
});

test("fast path and yargs agree on the environment variables", async () => {
  const env = { ACME_RENEW_CONFIG_DIR: "/env/c", ACME_RENEW_STATE_DIR: "/env/s" };
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const ref = await viaYargs(["check", "x"]);
    const fast = fastParse(["check", "x"], env)!;
    assert.equal(fast.configDir, ref.configDir);
    assert.equal(fast.stateDir, ref.stateDir);
  } finally {
    for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
  }
});

test("fast path declines anything else, leaving it to yargs", () => {
  for (const argv of [
    [],
    ["--help"],
    ["check", "--help"],
    ["check"],
    ["check", "x", "--all"],
    ["check", "--bogus", "x"],
    ["check", "x", "--force"],
    ["ready", "x", "--force"],
    ["ready", "x", "--json"],
    ["ready"],
    ["validate"],
    ["schema"],
    ["run", "x", "--timeout", "30"],
    ["check", "--log-format", "xml", "x"],
    ["check", "--config-dir"],
    ["--version"],
    ["run", "x", "--now", "2030-01-01T00:00:00Z"],
  ])
    assert.equal(fastParse(argv, {}), null, argv.join(" "));
  assert.equal(fastParse(["check", "x"], { ACME_RENEW_TIMEOUT: "5" }), null, "unknown ACME_RENEW_ variable");
});
