/** A provider's variables: systemd EnvironmentFile syntax, lego's VAR / VAR_FILE, the three sources. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../src/config/errors.js";
import { ProviderEnv, parseEnvironmentFile } from "../../src/dns/env.js";

test("EnvironmentFile syntax: comments, quotes, escapes, continuations, bad lines", () => {
  const bad: string[] = [];
  const vars = parseEnvironmentFile(
    [
      "# a comment",
      "; another",
      "",
      "PLAIN=value",
      "  SPACED = padded value   ",
      "SINGLE='it''s #not a comment'",
      'DOUBLE="a \\"quoted\\" \\\\ value"',
      "ESCAPED=a\\ b",
      "CONT=first\\",
      "second",
      "EMPTY=",
      "not a line",
      "1BAD=x",
      'MULTI="line one',
      'line two"',
      "URL=https://example.com/?a=1&b=2#frag",
    ].join("\n"),
    (line, why) => bad.push(`${line}: ${why}`),
  );
  assert.deepEqual(Object.fromEntries(vars), {
    PLAIN: "value",
    SPACED: "padded value",
    SINGLE: "its #not a comment",
    DOUBLE: 'a "quoted" \\ value',
    ESCAPED: "a b",
    CONT: "firstsecond",
    EMPTY: "",
    MULTI: "line one\nline two",
    URL: "https://example.com/?a=1&b=2#frag",
  });
  assert.deepEqual(bad, ["12: no '=' (expected KEY=VALUE)", '13: "1BAD" is not a variable name']);
});

function sandbox() {
  const d = mkdtempSync(join(tmpdir(), "acme-renew-env-"));
  const file = (name: string, content: string, mode = 0o600) => {
    const p = join(d, name);
    writeFileSync(p, content);
    chmodSync(p, mode);
    return p;
  };
  return { d, file };
}

test("lego's GetOrFile: VAR, else VAR_FILE's content without the trailing newline", () => {
  const s = sandbox();
  const warnings: string[] = [];
  const env = new ProviderEnv({ file: "/etc/acme-renew/x.json", process: { TOKEN_FILE: s.file("t", "secret-token\r\n\n"), DIRECT: "d", EMPTY: "" }, environmentFile: null, credentialFiles: {}, warn: (m) => warnings.push(m) }, "test");
  assert.equal(env.get("TOKEN"), "secret-token");
  assert.equal(env.get("DIRECT"), "d");
  assert.equal(env.get("EMPTY"), undefined, "empty is unset, as in lego");
  assert.equal(env.get("MISSING"), undefined);
  assert.equal(env.first("MISSING", "DIRECT"), "d");
  assert.deepEqual(warnings, []);
  assert.deepEqual(env.values(), ["secret-token"], "values() lists what may be redacted (≥ 4 characters)");
  assert.deepEqual(env.values(["DIRECT"]), [], "only the named ones");
});

test("the certificate's sources win over the process environment, per variable (VAR and VAR_FILE together)", () => {
  const s = sandbox();
  const envFile = s.file("e.env", "CF_DNS_API_TOKEN=from-env-file\nCLOUDFLARE_TTL=300\n");
  const cred = s.file("cred", "from-credential-file\n");
  const env = new ProviderEnv(
    {
      file: "/etc/acme-renew/x.json",
      process: { CF_DNS_API_TOKEN: "from-process", CF_ZONE_API_TOKEN_FILE: "/nonexistent", CLOUDFLARE_TTL: "60", OTHER: "kept" },
      environmentFile: envFile,
      credentialFiles: { CF_ZONE_API_TOKEN_FILE: cred },
      warn: () => {},
    },
    "cloudflare",
  );
  assert.equal(env.get("CF_DNS_API_TOKEN"), "from-env-file");
  assert.equal(env.get("CF_ZONE_API_TOKEN"), "from-credential-file");
  assert.equal(env.int("CLOUDFLARE_TTL", 120), 300);
  assert.equal(env.get("OTHER"), "kept");
  assert.equal(env.origin("CF_DNS_API_TOKEN"), `environmentFile ${envFile}`);
  assert.equal(env.origin("CF_ZONE_API_TOKEN"), "credentialFiles");
  // a VAR_FILE in a higher source hides a VAR set below it
  const env2 = new ProviderEnv({ file: "/x.json", process: { TOKEN: "process" }, environmentFile: null, credentialFiles: { TOKEN_FILE: cred }, warn: () => {} }, "p");
  assert.equal(env2.get("TOKEN"), "from-credential-file");
});

test("bad credentials: missing, unreadable, empty, world-readable, not a number", () => {
  const s = sandbox();
  const warnings: string[] = [];
  const mk = (process: Record<string, string>, o: { environmentFile?: string; credentialFiles?: Record<string, string> } = {}) =>
    new ProviderEnv({ file: "/etc/acme-renew/c.json", process, environmentFile: o.environmentFile ?? null, credentialFiles: o.credentialFiles ?? {}, warn: (m) => warnings.push(m) }, "hetzner");
  const err = (f: () => unknown): ConfigError => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof ConfigError, String(e));
      return e;
    }
    return assert.fail("expected a ConfigError");
  };
  assert.match(err(() => mk({}).require("HETZNER_API_TOKEN")).message, /^config \/etc\/acme-renew\/c\.json: dnsProvider: hetzner: HETZNER_API_TOKEN: not set \(set it in the environment, environmentFile, or as HETZNER_API_TOKEN_FILE in credentialFiles\)$/);
  assert.match(err(() => mk({}, { credentialFiles: { HETZNER_API_TOKEN_FILE: "/nonexistent/t" } }).get("HETZNER_API_TOKEN")).message, /credentialFiles\.HETZNER_API_TOKEN_FILE: hetzner: HETZNER_API_TOKEN_FILE \(from credentialFiles\): cannot read \/nonexistent\/t \(ENOENT\)/);
  const empty = s.file("empty", "\n");
  assert.match(err(() => mk({ HETZNER_API_TOKEN_FILE: empty }).get("HETZNER_API_TOKEN")).message, /hetzner: HETZNER_API_TOKEN_FILE .*empty is empty/);
  assert.match(err(() => mk({}, { environmentFile: "/nonexistent/e.env" })).message, /environmentFile: the file: cannot read \/nonexistent\/e\.env \(ENOENT\)/);
  assert.match(err(() => mk({ HETZNER_TTL: "1m" }).int("HETZNER_TTL", 60)).message, /hetzner: HETZNER_TTL: expected a whole number, got "1m"/);
  assert.match(err(() => mk({ NAMECHEAP_SANDBOX: "maybe" }).bool("NAMECHEAP_SANDBOX", false)).message, /expected true or false/);
  const open = s.file("open.env", "HETZNER_API_TOKEN=x\n", 0o644);
  mk({}, { environmentFile: open });
  const openCred = s.file("open-cred", "x\n", 0o604);
  mk({}, { credentialFiles: { HETZNER_API_TOKEN_FILE: openCred } }).get("HETZNER_API_TOKEN");
  assert.deepEqual(warnings, [
    `environmentFile ${open} is readable by other users (mode 0644); make it 0600 or 0640`,
    `HETZNER_API_TOKEN_FILE ${openCred} is readable by other users (mode 0604); make it 0600 or 0640`,
  ]);
  assert.equal(mk({ HETZNER_TTL: "7" }).int("HETZNER_TTL", 60), 7);
  assert.equal(mk({ X: "TRUE" }).bool("X", false), true);
});
