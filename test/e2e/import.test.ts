/**
 * `acme-renew import` (issue 15): real certbot 2.1 and lego 4.9.1 state, made by those clients against
 * Pebble in this test; acme.sh- and NixOS-shaped state written from their documented layouts. The
 * configs are printed (nothing written), --write adopts each certificate as its first version (the
 * same bytes, nothing re-issued, `run` leaves it alone) and the configs work for a real renewal.
 * Bad input gets one line, exit 78 (or 64), and no file anywhere changes (tree hashes).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "node:http";
import { FIELDS } from "../../src/config/fields.js";
import { serveWebroot } from "../helpers/acme-fixtures.js";
import { sandbox, type CliResult } from "../helpers/cli.js";
import { certbotCertonly, legoRun } from "../helpers/peers.js";
import { startPebble, type Pebble } from "../helpers/pebble.js";
import { makeLeaf } from "../helpers/pki.js";
import { acmeShBase64, acmeShHome, minicaLeaf, writeNixosCert } from "../helpers/peer-fixtures.js";
import { treeHash } from "../helpers/tree-hash.js";

/** The configs of `import`'s output, by name: each block is "# <file>  <- …" comment lines and the JSON. */
function printed(stdout: string): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const block of stdout.split(/^(?=# \S+\.json {2}<- )/m).filter((b) => b.trim())) {
    const file = /^# (\S+)\.json/.exec(block)![1]!;
    out[file.split("/").pop()!] = JSON.parse(block.replace(/^#.*\n/gm, "")) as Record<string, unknown>;
  }
  return out;
}

/** Comment lines of one certificate's block. */
function notesOf(stdout: string, name: string): string {
  return stdout.split(/^(?=# \S+\.json {2}<- )/m).find((b) => b.includes(`/${name}.json`)) ?? "";
}

const errorLines = (r: CliResult) => r.stderr.split("\n").filter((l) => l.startsWith("error:"));

function copy(dir: string): string {
  const to = mkdtempSync(join(tmpdir(), "acme-renew-import-copy-"));
  cpSync(dir, to, { recursive: true, verbatimSymlinks: false, dereference: false });
  return to;
}

describe("import certbot and lego (real state from Pebble)", { timeout: 600_000 }, () => {
  let pebble: Pebble;
  let root: string;
  let le: string;
  let legoPath: string;
  let webroot: string;

  before(async () => {
    pebble = await startPebble();
    root = mkdtempSync(join(tmpdir(), "acme-renew-peers-"));
    le = join(root, "letsencrypt");
    legoPath = join(root, "lego", ".lego");
    webroot = join(root, "www");
    mkdirSync(webroot);
    await certbotCertonly(pebble, { configDir: le, names: ["a.example.com", "www.a.example.com"] });
    let server: Server | null = null;
    try {
      server = await serveWebroot(webroot, pebble.httpPort);
      await certbotCertonly(pebble, { configDir: le, names: ["w.example.com"], webroot });
    } finally {
      await new Promise((r) => server?.close(r));
    }
    await legoRun(pebble, { path: legoPath, names: ["b.example.com", "www.b.example.com"], email: "ops@example.com" });
  });
  after(async () => {
    await pebble?.stop();
  });

  test("certbot: prints a config per lineage (standalone → listenHTTP, webroot → webroot) and every setting not carried over; writes nothing", async () => {
    const s = sandbox();
    const hash = treeHash(s.configDir, s.stateDir, le);
    const r = await s.cli(["import", "certbot", le]);
    assert.equal(r.code, 0, r.stderr);
    const cfgs = printed(r.stdout);
    assert.deepEqual(Object.keys(cfgs).sort(), ["a.example.com", "w.example.com"]);
    assert.deepEqual(cfgs["a.example.com"], {
      $comment: `imported from certbot ${le}/renewal/a.example.com.conf`,
      extraDomainNames: ["www.a.example.com"],
      server: pebble.directoryUrl,
      keyType: "ec256",
      listenHTTP: `127.0.0.1:${pebble.httpPort}`,
    });
    assert.equal(cfgs["w.example.com"]!.webroot, webroot);
    const notes = notesOf(r.stdout, "a.example.com");
    assert.match(notes, /adopts: a\.example\.com www\.a\.example\.com; ec256; valid until \S+; issuer Pebble Intermediate CA/);
    assert.match(notes, /not carried over: account = [0-9a-f]{32} /);
    assert.match(notes, /not carried over: config_dir, work_dir, logs_dir \(certbot's own directories\)/);
    assert.match(notes, /authenticator = standalone → listenHTTP/);
    assert.match(notes, /acceptTerms: not set: certbot's account is not reused/, "the terms are the operator's to accept");
    assert.equal(treeHash(s.configDir, s.stateDir, le), hash, "nothing on disk changed");
  });

  test("certbot --write: each certificate adopted as version 1 (certbot's bytes), configs as printed; check valid; run re-issues nothing; the imported config renews", async () => {
    const s = sandbox();
    const leHash = treeHash(le);
    const shown = await s.cli(["import", "certbot", le, "--set", `caBundle=${pebble.caBundle}`, "--set", "acceptTerms=true"]);
    const r = await s.cli(["import", "certbot", le, "--set", `caBundle=${pebble.caBundle}`, "--set", "acceptTerms=true", "--write"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, shown.stdout, "--write prints what the dry form printed");
    for (const [name, cfg] of Object.entries(printed(r.stdout))) {
      assert.deepEqual(JSON.parse(readFileSync(join(s.configDir, `${name}.json`), "utf8")), cfg, `${name}.json is the printed config`);
      const versions = readdirSync(join(s.stateDir, name, "versions"));
      assert.equal(versions.length, 1, versions.join());
      assert.match(versions[0]!, /-adopted$/);
      const live = join(le, "live", name);
      assert.equal(readFileSync(join(s.stateDir, name, "key.pem"), "utf8"), readFileSync(join(live, "privkey.pem"), "utf8"));
      assert.equal(readFileSync(join(s.stateDir, name, "cert.pem"), "utf8"), readFileSync(join(live, "cert.pem"), "utf8"));
      assert.equal(readFileSync(join(s.stateDir, name, "fullchain.pem"), "utf8"), readFileSync(join(live, "fullchain.pem"), "utf8"));
      assert.match(r.stderr, new RegExp(`${name.replace(/\./g, "\\.")}: wrote .*adopted the certificate as version .*-adopted; check: valid`));
    }
    assert.equal(treeHash(le), leHash, "certbot's state is left as it was");
    const check = await s.cli(["check", "--all", "--json"]);
    assert.equal(check.code, 0, check.stderr);
    assert.deepEqual((JSON.parse(check.stdout) as Array<{ status: string }>).map((c) => c.status), ["valid", "valid"]);
    const before = readFileSync(join(s.stateDir, "a.example.com", "cert.pem"), "utf8");
    const run = await s.cli(["run", "--all", "--json"], { timeoutMs: 120_000 });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual((JSON.parse(run.stdout) as Array<{ outcome: string }>).map((x) => x.outcome), ["not-due", "not-due"]);
    assert.equal(readFileSync(join(s.stateDir, "a.example.com", "cert.pem"), "utf8"), before, "nothing re-issued");
    // The imported standalone config (listenHTTP on the port certbot listened on) renews for real.
    const forced = await s.cli(["run", "a.example.com", "--force"], { timeoutMs: 180_000 });
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /renewed, valid until/);
    assert.notEqual(readFileSync(join(s.stateDir, "a.example.com", "cert.pem"), "utf8"), before);
    assert.equal(readdirSync(join(s.stateDir, "a.example.com", "versions")).filter((v) => v.endsWith("-adopted")).length, 1, "the adopted version is kept");
  });

  test("certbot: the same import again refuses (config exists, certificate in place), writes nothing", async () => {
    const s = sandbox();
    assert.equal((await s.cli(["import", "certbot", le, "--only", "w.example.com", "--write"])).code, 0);
    const hash = treeHash(s.configDir, s.stateDir);
    const r = await s.cli(["import", "certbot", le, "--only", "w.example.com", "--write"]);
    assert.equal(r.code, 78, r.stderr);
    assert.match(r.stderr, /w\.example\.com\.json exists: import never writes over a config/);
    assert.match(r.stderr, /already holds a certificate: import adopts only into an empty directory \(acme-renew delete w\.example\.com first\)/);
    assert.equal(treeHash(s.configDir, s.stateDir), hash);
  });

  test("certbot dns-* plugin → dnsProvider (lego's code) with notes on the credentials; the write path validates it", async () => {
    const dir = copy(le);
    const conf = join(dir, "renewal", "a.example.com.conf");
    writeFileSync(
      conf,
      readFileSync(conf, "utf8")
        .replace(/^authenticator = .*$/m, "authenticator = dns-cloudflare\ndns_cloudflare_credentials = /etc/letsencrypt/cloudflare.ini\ndns_cloudflare_propagation_seconds = 30")
        .replace(/^http01_.*\n/gm, ""),
    );
    const s = sandbox();
    const hash = treeHash(s.configDir, s.stateDir, dir);
    const r = await s.cli(["import", "certbot", dir, "--only", "a.example.com"]);
    const cfg = printed(r.stdout)["a.example.com"]!;
    assert.equal(cfg.dnsProvider, "cloudflare");
    const notes = notesOf(r.stdout, "a.example.com");
    assert.match(notes, /authenticator = dns-cloudflare → dnsProvider "cloudflare"/);
    assert.match(notes, /not carried over: dns_cloudflare_credentials = \/etc\/letsencrypt\/cloudflare\.ini \(certbot's INI file/);
    assert.match(notes, /not carried over: dns_cloudflare_propagation_seconds = 30/);
    if ("dnsProvider" in FIELDS) assert.equal(r.code, 0, r.stderr);
    else {
      // Before the dnsProvider field exists, the config validator refuses what import would write.
      assert.equal(r.code, 78, r.stderr);
      assert.match(r.stderr, /a\.example\.com\.json: dnsProvider: unknown key/);
    }
    assert.equal(treeHash(s.configDir, s.stateDir, dir), hash);
  });

  test("lego: server and challenge are not in lego's state: 78 naming both; with --set they are, --write adopts, the config renews", async () => {
    const s = sandbox();
    const hash = treeHash(s.configDir, s.stateDir, legoPath);
    const bare = await s.cli(["import", "lego", legoPath]);
    assert.equal(bare.code, 78, bare.stderr);
    assert.match(bare.stderr, /b\.example\.com: no server: lego records the CA's host \(127\.0\.0\.1:\d+\), not its directory URL; give --set server=…/);
    assert.match(bare.stderr, /b\.example\.com: no challenge: lego does not record how it validated/);
    assert.equal(printed(bare.stdout)["b.example.com"]!.email, "ops@example.com", "the email from lego's account directory");
    assert.equal(treeHash(s.configDir, s.stateDir, legoPath), hash);

    const set = ["--set", `server=${pebble.directoryUrl}`, "--set", `caBundle=${pebble.caBundle}`, "--set", `listenHTTP=127.0.0.1:${pebble.httpPort}`, "--set", "acceptTerms=true"];
    const r = await s.cli(["import", "lego", join(legoPath, ".."), ...set, "--write"]); // the directory holding .lego works too
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(printed(r.stdout)["b.example.com"]!.extraDomainNames, ["www.b.example.com"]);
    assert.equal(readFileSync(join(s.stateDir, "b.example.com", "key.pem"), "utf8"), readFileSync(join(legoPath, "certificates", "b.example.com.key"), "utf8"));
    assert.equal(readFileSync(join(s.stateDir, "b.example.com", "chain.pem"), "utf8"), readFileSync(join(legoPath, "certificates", "b.example.com.issuer.crt"), "utf8"));
    const check = await s.cli(["check", "b.example.com"]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /^b\.example\.com\tvalid\tusable/);
    const forced = await s.cli(["run", "b.example.com", "--force"], { timeoutMs: 180_000 });
    assert.equal(forced.code, 0, forced.stderr);
  });

  test("bad input: one error line, the right exit code, no file changed", async () => {
    const s = sandbox();
    const frob = copy(le);
    const conf = join(frob, "renewal", "a.example.com.conf");
    writeFileSync(conf, readFileSync(conf, "utf8").replace(/^authenticator = .*$/m, "authenticator = frobnicate"));
    const nokey = copy(join(legoPath, ".."));
    rmSync(join(nokey, ".lego", "certificates", "b.example.com.key"));
    const nodomain = copy(join(legoPath, ".."));
    writeFileSync(join(nodomain, ".lego", "certificates", "b.example.com.json"), JSON.stringify({ certUrl: "https://127.0.0.1/cert/1" }));
    const wrongkey = copy(le);
    // Another certificate's key in place of a.example.com's (a regular file where certbot has a link;
    // not cpSync: Node 24's refuses to copy a followed link over a link).
    const victim = join(wrongkey, "live", "a.example.com", "privkey.pem");
    rmSync(victim);
    writeFileSync(victim, readFileSync(join(le, "live", "w.example.com", "privkey.pem")), { mode: 0o600 });
    rmSync(join(wrongkey, "renewal", "w.example.com.conf"));
    const cases: Array<[string[], number, RegExp, string[]]> = [
      [["import", "certbot", frob, "--only", "a.example.com", "--write"], 78, /renewal\/a\.example\.com\.conf: authenticator = frobnicate: not a certbot authenticator acme-renew knows \(webroot, standalone/, [frob]],
      [["import", "lego", nokey, "--write"], 78, /certificates\/b\.example\.com\.key: missing \(the private key; lego writes none for a certificate ordered with --csr\)/, [nokey]],
      [["import", "lego", nodomain, "--write"], 78, /b\.example\.com\.json: no "domain" in it: not lego's certificate resource/, [nodomain]],
      [["import", "certbot", wrongkey, "--write"], 78, /live\/a\.example\.com\/privkey\.pem: does not belong to the certificate/, [wrongkey]],
      [["import", "certbot", join(s.root, "nope"), "--write"], 64, /nope: no such directory \(certbot's config directory/, []],
      [["import", "lego", le, "--write"], 64, /no certificates\/ directory in it: not lego's --path/, [le]],
    ];
    for (const [args, code, line, dirs] of cases) {
      const hash = treeHash(s.configDir, s.stateDir, ...dirs);
      const r = await s.cli(args);
      assert.equal(r.code, code, `${args.join(" ")}\n${r.stderr}`);
      assert.deepEqual(errorLines(r).length, 1, `${args.join(" ")}: one error line\n${r.stderr}`);
      assert.match(errorLines(r)[0]!, line);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
      assert.equal(treeHash(s.configDir, s.stateDir, ...dirs), hash, `${args.join(" ")}: nothing changed`);
    }
    // One bad lineage among good ones: each problem named, nothing written at all.
    const hash = treeHash(s.configDir, s.stateDir, frob);
    const both = await s.cli(["import", "certbot", frob, "--write"]);
    assert.equal(both.code, 78, both.stderr);
    assert.match(both.stderr, /1 of 2 certificates cannot be imported as they are: nothing written \(--only NAME picks certificates\)/);
    assert.equal(treeHash(s.configDir, s.stateDir, frob), hash);
    // An unknown name, an unknown field for --set, an unknown tool: usage errors.
    const sandboxHash = treeHash(s.configDir, s.stateDir);
    for (const args of [["import", "certbot", le, "--only", "nope.example.com"], ["import", "certbot", le, "--set", "webrot=/x"], ["import", "traefik", le]]) {
      const r = await s.cli(args);
      assert.equal(r.code, 64, `${args.join(" ")}\n${r.stderr}`);
      assert.equal(errorLines(r).length, 1, r.stderr);
    }
    assert.equal(treeHash(s.configDir, s.stateDir), sandboxHash);
  });
});

// ---------------------------------------------------------------------------------------------
// acme.sh and NixOS: state written from the documented layouts (no such client runs here).

describe("import acme.sh (documented layout)", { timeout: 120_000 }, () => {
  test("webroot, standalone, alpn and dns_cf modes map; hooks become postRun; bookkeeping and unknown keys are listed, secrets not shown; --write adopts", async () => {
    const home = await acmeShHome([
      { domain: "c.example.com", alt: ["www.c.example.com"], conf: { Le_ReloadCmd: acmeShBase64("systemctl reload nginx"), Le_RealKeyPath: "/etc/nginx/c.key", Le_Frobnicate: "42", Le_PFXPassword: acmeShBase64("hunter2") } },
      { domain: "d.example.com", ecc: false, conf: { Le_Webroot: "no", Le_HTTPPort: "8080" } },
      { domain: "e.example.com", conf: { Le_Webroot: "alpn", Le_TLSPort: "8443" } },
      { domain: "f.example.com", conf: { Le_Webroot: "dns_cf" } },
    ]);
    const s = sandbox();
    const hash = treeHash(s.configDir, s.stateDir, home);
    const r = await s.cli(["import", "acme.sh", home, "--only", "c.example.com", "--only", "d.example.com", "--only", "e.example.com"]);
    assert.equal(r.code, 0, r.stderr);
    const cfgs = printed(r.stdout);
    assert.deepEqual(cfgs["c.example.com"], {
      $comment: `imported from acme.sh ${home}/c.example.com_ecc/c.example.com.conf`,
      extraDomainNames: ["www.c.example.com"],
      email: "ops@example.com",
      server: "https://acme-v02.api.letsencrypt.org/directory",
      keyType: "ec256",
      webroot: "/var/www/html",
      postRun: "systemctl reload nginx",
    });
    assert.equal(cfgs["d.example.com"]!.listenHTTP, ":8080");
    assert.equal(cfgs["d.example.com"]!.keyType, "rsa2048");
    assert.equal(cfgs["e.example.com"]!.listenTLS, ":8443");
    const notes = notesOf(r.stdout, "c.example.com");
    assert.match(notes, /not carried over: Le_Frobnicate = 42/);
    assert.match(notes, /not carried over: Le_PFXPassword = \[not shown\]/);
    assert.doesNotMatch(r.stdout + r.stderr, /hunter2|secret-token/);
    assert.match(notes, /not carried over: Le_RealKeyPath = \/etc\/nginx\/c\.key \(--install-cert copies/);
    assert.match(notes, /not needed: Le_OrderFinalize, Le_LinkOrder, Le_LinkCert, Le_CertCreateTime, Le_CertCreateTimeStr, Le_NextRenewTime, Le_NextRenewTimeStr \(acme\.sh's bookkeeping\)/);
    assert.equal(treeHash(s.configDir, s.stateDir, home), hash);

    const dns = await s.cli(["import", "acme.sh", home, "--only", "f.example.com"]);
    assert.equal(printed(dns.stdout)["f.example.com"]!.dnsProvider, "cloudflare");
    assert.match(notesOf(dns.stdout, "f.example.com"), /Le_Webroot = dns_cf → dnsProvider "cloudflare"/);

    const w = await s.cli(["import", "acme.sh", home, "--only", "c.example.com", "--write"]);
    assert.equal(w.code, 0, w.stderr);
    assert.equal(readFileSync(join(s.stateDir, "c.example.com", "key.pem"), "utf8"), readFileSync(join(home, "c.example.com_ecc", "c.example.com.key"), "utf8"));
    const check = await s.cli(["check", "c.example.com"]);
    assert.equal(check.code, 0, check.stderr);
  });

  test("an unknown Le_Webroot mode, a conf line that is not Key='value', a missing key file: one line, 78, nothing changed", async () => {
    const home = await acmeShHome([
      { domain: "g.example.com", conf: { Le_Webroot: "frobnicate" } },
      { domain: "h.example.com", conf: {} },
      { domain: "i.example.com", conf: {} },
    ]);
    writeFileSync(join(home, "h.example.com_ecc", "h.example.com.conf"), "Le_Domain='h.example.com'\nthis is not a setting\n");
    rmSync(join(home, "i.example.com_ecc", "i.example.com.key"));
    const s = sandbox();
    for (const [name, line] of [
      ["g.example.com", /g\.example\.com\.conf: Le_Webroot = frobnicate: not an acme\.sh validation mode acme-renew knows/],
      ["h.example.com", /h\.example\.com\.conf:2: not a Key='value' line/],
      ["i.example.com", /i\.example\.com\.key: missing \(the private key\)/],
    ] as const) {
      const hash = treeHash(s.configDir, s.stateDir, home);
      const r = await s.cli(["import", "acme.sh", home, "--only", name, "--write"]);
      assert.equal(r.code, 78, r.stderr);
      assert.equal(errorLines(r).length, 1, r.stderr);
      assert.match(errorLines(r)[0]!, line);
      assert.equal(treeHash(s.configDir, s.stateDir, home), hash);
    }
  });
});

describe("import nixos (security.acme's /var/lib/acme layout)", { timeout: 120_000 }, () => {
  test("adopts the leaf of fullchain.pem; security.acme's minica placeholder is not adopted; the challenge must come from --set or defaults.json", async () => {
    const root = mkdtempSync(join(tmpdir(), "acme-renew-nixos-"));
    const real = await makeLeaf({ names: ["n.example.com", "www.n.example.com"] });
    writeNixosCert(root, "n.example.com", real, `${real.issuer!.cert.toString("pem")}\n`);
    const ph = await minicaLeaf("p.example.com");
    writeNixosCert(root, "p.example.com", ph, ph.caPem);
    mkdirSync(join(root, ".lego", "accounts"), { recursive: true });
    mkdirSync(join(root, "acme-challenge"));

    const s = sandbox();
    const hash = treeHash(s.configDir, s.stateDir, root);
    const bare = await s.cli(["import", "nixos", root]);
    assert.equal(bare.code, 78, bare.stderr);
    assert.match(bare.stderr, /n\.example\.com: no challenge: the challenge is in the Nix configuration/);
    assert.equal(treeHash(s.configDir, s.stateDir, root), hash);

    const r = await s.cli(["import", "nixos", root, "--set", "webroot=/var/lib/acme/acme-challenge", "--write"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(notesOf(r.stdout, "p.example.com"), /adopts: nothing .*\n.*security\.acme's self-signed placeholder \(issuer minica root ca 5d1b2a\): nothing to adopt/);
    assert.ok(!existsSync(join(s.stateDir, "p.example.com")), "no certificate dir for the placeholder");
    assert.ok(existsSync(join(s.configDir, "p.example.com.json")));
    assert.equal(readFileSync(join(s.stateDir, "n.example.com", "cert.pem"), "utf8"), `${real.cert.toString("pem")}\n`, "cert.pem is the leaf alone");
    assert.equal(readFileSync(join(s.stateDir, "n.example.com", "key.pem"), "utf8"), real.key.pem);
    const check = await s.cli(["check", "n.example.com"]);
    assert.equal(check.code, 0, check.stderr);
  });
});
