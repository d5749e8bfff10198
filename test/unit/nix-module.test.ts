/**
 * The NixOS module's output format (nix/): the JSON files in nix/fixtures/ are what nix/lib.nix
 * generates for nix/fixtures/example-certs.nix (scripts/check-nix.sh proves that with
 * nix-instantiate). Here they go through the real validator — the built CLI — and the published
 * JSON Schema, so a change of the config format that the module does not follow fails here.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";

const ROOT = resolve(import.meta.dirname, "../../..");
const CLI = join(ROOT, "dist/acme-renew.js");
const FIXTURES = join(ROOT, "nix/fixtures");
const SCHEMA_FILE = join(ROOT, "schema/acme-renew.schema.json");
const CHECK_NIX = join(ROOT, "scripts/check-nix.sh");

const fixtureFiles = (): string[] =>
  readdirSync(FIXTURES)
    .filter((f) => f.endsWith(".json"))
    .sort();

/** A config dir holding copies of the fixture JSON files (plus `extra` files). */
function configDir(extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "acme-renew-nix-fixtures-"));
  for (const f of fixtureFiles()) copyFileSync(join(FIXTURES, f), join(dir, f));
  for (const [name, content] of Object.entries(extra)) writeFileSync(join(dir, name), JSON.stringify(content));
  return dir;
}

/** As module.nix runs it at build time (no host groups, no secrets in the build sandbox). */
const BUILD_FLAGS = ["--no-group-check", "--no-credentials"];
function validate(dir: string, flags: string[] = BUILD_FLAGS) {
  assert.ok(existsSync(CLI), `${CLI} is missing: run \`npm run build\` first`);
  const r = spawnSync(process.execPath, [CLI, "--config-dir", dir, "--log-format", "text", "validate", ...flags], {
    encoding: "utf8",
    timeout: 60_000,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

test("nix/fixtures: a defaults.json and several certificates, no stray keys", () => {
  const files = fixtureFiles();
  assert.ok(files.includes("defaults.json"), "nix/fixtures/defaults.json is missing");
  assert.ok(files.length >= 4, `expected defaults.json and at least 3 certificates, got ${files.join(", ")}`);
  // Options of the module that live in the systemd unit, never in the files.
  // (environmentFile and credentialFiles are fields of the program too, but the module passes them
  // the security.acme way: EnvironmentFile= and LoadCredential=, read by systemd as root.)
  const unitOnly = ["environmentFile", "credentialFiles", "renewInterval", "migrateFrom", "extraReloadServices"];
  for (const f of files) {
    const keys = Object.keys(JSON.parse(readFileSync(join(FIXTURES, f), "utf8")) as Record<string, unknown>);
    for (const k of unitOnly) assert.ok(!keys.includes(k), `nix/fixtures/${f}: "${k}" is a unit-level option and must not be in the file`);
  }
});

test("nix/fixtures pass the real validator (acme-renew validate)", () => {
  const dir = configDir();
  try {
    const r = validate(dir);
    assert.equal(r.code, 0, `acme-renew validate exited ${r.code}:\n${r.out}`);
    for (const f of fixtureFiles().filter((f) => f !== "defaults.json")) {
      const name = f.slice(0, -".json".length);
      assert.match(r.out, new RegExp(`${name.replace(/[.*]/g, "\\$&")}: configuration is valid`), r.out);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a dnsProvider certificate validates at build time only with --no-credentials (the sandbox has no secrets)", () => {
  const dir = configDir();
  try {
    const provider = JSON.parse(readFileSync(join(FIXTURES, "wildcard.example.org.json"), "utf8")) as { dnsProvider?: string };
    assert.equal(provider.dnsProvider, "rfc2136", "the fixture's dns-01 certificate uses a provider");
    // What run does (and validate did unconditionally before the flag): the provider's variables
    // are required — none is set here, as in the build sandbox.
    const without = validate(dir, ["--no-group-check"]);
    assert.equal(without.code, 78, without.out);
    assert.match(without.out, /wildcard\.example\.org.*(RFC2136|DNSUPDATE)_NAMESERVER/, without.out);
    const built = validate(dir);
    assert.equal(built.code, 0, built.out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the validator has teeth here: a file the module must never write is rejected (78)", () => {
  // What an unguarded mapping could produce: two challenges after the merge with defaults.json is
  // fine (the cert's replaces the default), two in one file is not; an unset option as null is not.
  for (const [label, bad, pattern] of [
    ["two challenges", { webroot: "/w", dnsHook: "/h" }, /only one challenge/],
    ["null for an unset option", { listenHTTP: ":80", email: null }, /email: expected a string, got null/],
    ["unit-level option", { listenHTTP: ":80", renewInterval: "daily" }, /renewInterval: unknown key/],
  ] as const) {
    const dir = configDir({ "bad.example.json": bad });
    try {
      const r = validate(dir);
      assert.equal(r.code, 78, `${label}: expected exit 78, got ${r.code}:\n${r.out}`);
      assert.match(r.out, pattern, label);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test("nix/fixtures validate against schema/acme-renew.schema.json", () => {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, "utf8")) as { $id: string };
  const ajv = new Ajv2020.default({ strict: true, allErrors: true, strictTypes: false, strictRequired: false });
  ajv.addFormat("email", /@/);
  ajv.addFormat("uri", /^https?:\/\//);
  ajv.addSchema(schema);
  const certSchema = ajv.getSchema(schema.$id);
  const defaultsSchema = ajv.getSchema(`${schema.$id}#/$defs/defaults`);
  assert.ok(certSchema && defaultsSchema, "schema or its $defs/defaults not found");
  for (const f of fixtureFiles()) {
    const v = f === "defaults.json" ? defaultsSchema : certSchema;
    const data: unknown = JSON.parse(readFileSync(join(FIXTURES, f), "utf8"));
    assert.ok(v(data), `nix/fixtures/${f}: ${ajv.errorsText(v.errors)}`);
  }
  // and defaults.json is not a certificate (per-certificate keys are refused there)
  assert.equal(defaultsSchema({ domain: "x.example" }), false, "defaults schema accepts domain");
});

const hasNix = spawnSync("sh", ["-c", "command -v nix-instantiate"]).status === 0;

test(
  "scripts/check-nix.sh: the Nix files parse, lib.nix maps example-certs.nix to the fixtures",
  { skip: hasNix ? false : "nix-instantiate is not installed (Debian: apt-get install nix-bin); CI installs it" },
  () => {
    const r = spawnSync("bash", [CHECK_NIX], { cwd: ROOT, encoding: "utf8", timeout: 300_000 });
    assert.equal(r.status, 0, `scripts/check-nix.sh exited ${r.status}:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /ok {3}fixtures: /);
    assert.match(r.stdout, /ok {3}unit tests: /);
  },
);
