/** The parsers behind `import`: certbot's ConfigObj subset, acme.sh's Key='value' files, --set. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseShellConf } from "../../src/import/acmesh.js";
import { parseIni } from "../../src/import/ini.js";
import { ImportError } from "../../src/import/plan.js";
import { parseSet } from "../../src/cli/commands/import.js";
import { UsageError } from "../../src/cli/context.js";

test("certbot conf: top-level keys, [renewalparams], [[webroot_map]], lists, quotes, comments", () => {
  const ini = parseIni(
    [
      "# renew_before_expiry = 30 days",
      "version = 2.1.0",
      "cert = /etc/letsencrypt/live/a/cert.pem",
      "",
      "[renewalparams]",
      "authenticator = webroot",
      "webroot_path = /var/www/a, /var/www/b,",
      "single_list = /var/www/c,",
      "quoted = 'a # not a comment'",
      "pre_hook = systemctl stop nginx  # an inline comment",
      "[[webroot_map]]",
      "a.example.com = /var/www/a",
    ].join("\n"),
    "a.conf",
  );
  assert.equal(ini.top.get("version"), "2.1.0");
  assert.ok(!ini.top.has("renew_before_expiry"), "a commented-out key is no key");
  const p = ini.sections.get("renewalparams")!;
  assert.deepEqual(p.values.get("webroot_path"), ["/var/www/a", "/var/www/b"]);
  assert.deepEqual(p.values.get("single_list"), ["/var/www/c"]);
  assert.equal(p.values.get("quoted"), "a # not a comment");
  assert.equal(p.values.get("pre_hook"), "systemctl stop nginx");
  assert.equal(p.subsections.get("webroot_map")!.get("a.example.com"), "/var/www/a");
});

test("certbot conf: a line that is not key = value is an ImportError naming file and line", () => {
  assert.throws(() => parseIni("[renewalparams]\nauthenticator webroot\n", "x.conf"), (e: unknown) => e instanceof ImportError && /^x\.conf:2: not a "key = value" line/.test(e.message));
  assert.throws(() => parseIni("[[webroot_map]]\n", "y.conf"), /y\.conf:1: \[\[webroot_map\]\] outside a \[section\]/);
});

test("acme.sh conf: quoted, unquoted and base64 values; a bad line names file and line", () => {
  const b = `__ACME_BASE64__START_${Buffer.from("systemctl reload nginx").toString("base64")}__ACME_BASE64__END_`;
  const c = parseShellConf(`Le_Domain='a.example.com'\nLe_Alt=no\nLe_ReloadCmd='${b}'\nexport X="y z"\n# comment\n`, "a.conf");
  assert.equal(c.get("Le_Domain"), "a.example.com");
  assert.equal(c.get("Le_Alt"), "no");
  assert.equal(c.get("Le_ReloadCmd"), "systemctl reload nginx");
  assert.equal(c.get("X"), "y z");
  assert.throws(() => parseShellConf("Le_Domain='a'\n$(rm -rf /)\n", "a.conf"), /a\.conf:2: not a Key='value' line/);
});

test("--set: JSON values or words; unknown fields and missing '=' are usage errors", () => {
  assert.deepEqual(parseSet(["webroot=/var/www", "reuseKey=true", "keepVersions=5", 'extraDomainNames=["a.example.com"]']), {
    webroot: "/var/www",
    reuseKey: true,
    keepVersions: 5,
    extraDomainNames: ["a.example.com"],
  });
  assert.throws(() => parseSet(["webrot=/x"]), (e: unknown) => e instanceof UsageError && /--set webrot: not a config field/.test(e.message));
  assert.throws(() => parseSet(["webroot"]), UsageError);
});
