import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import { ConfigLoader } from "../../src/config/load.js";
import { ConfigError } from "../../src/config/errors.js";
import { jsonSchema } from "../../src/config/schema.js";
import { checkDomain, domainProblem, parseHostPort } from "../../src/config/names.js";

function dir(files: Record<string, unknown>) {
  const d = mkdtempSync(join(tmpdir(), "acme-renew-cfg-"));
  for (const [n, c] of Object.entries(files)) writeFileSync(join(d, n), typeof c === "string" ? c : JSON.stringify(c));
  return new ConfigLoader(d);
}

function configError(files: Record<string, unknown>, name: string): ConfigError {
  try {
    dir(files).load(name);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected a config error");
}

test("minimal config: domain from the file name, defaults applied", () => {
  const c = dir({ "example.com.json": { webroot: "/var/www" } }).load("example.com");
  assert.equal(c.domain, "example.com");
  assert.deepEqual(c.extraDomainNames, []);
  assert.equal(c.keyType, "ec256");
  assert.equal(c.server, "https://acme-v02.api.letsencrypt.org/directory");
  assert.equal(c.validMinDays, null);
  assert.deepEqual(c.challenge, { type: "webroot", webroot: "/var/www" });
  assert.equal(c.ari, true);
  assert.equal(c.placeholder, true);
  assert.equal(c.keepVersions, 3);
});

test("defaults.json is inherited, overridden per key, and skipped with inheritDefaults: false", () => {
  const files = {
    "defaults.json": { email: "ops@example.com", keyType: "rsa2048", webroot: "/srv/www", reloadServices: ["nginx.service"] },
    "a.example.com.json": { keyType: "ec384" },
    "b.example.com.json": { dnsHook: "/usr/local/bin/hook" },
    "c.example.com.json": { inheritDefaults: false, listenHTTP: ":80" },
  };
  const l = dir(files);
  const a = l.load("a.example.com");
  assert.equal(a.email, "ops@example.com");
  assert.equal(a.keyType, "ec384");
  assert.deepEqual(a.reloadServices, ["nginx.service"]);
  // A challenge in the cert's file replaces the default challenge instead of conflicting with it.
  assert.equal(l.load("b.example.com").challenge.type, "dns01");
  const c = l.load("c.example.com");
  assert.equal(c.email, null);
  assert.equal(c.keyType, "ec256");
  assert.deepEqual(c.challenge, { type: "listenHTTP", host: "", port: 80 });
  assert.deepEqual(l.listNames(), ["a.example.com", "b.example.com", "c.example.com"]);
});

const BAD: Array<[string, Record<string, unknown>, RegExp]> = [
  ["unknown key (typo) with a suggestion", { webroot: "/w", keytype: "ec256" }, /keytype: unknown key \(did you mean "keyType"\?\)/],
  ["bad keyType", { webroot: "/w", keyType: "ec521" }, /keyType: expected one of ec256, ec384, rsa2048, rsa3072, rsa4096, rsa8192, got "ec521"/],
  ["keyType not a string", { webroot: "/w", keyType: 256 }, /keyType: expected one of/],
  ["no challenge", {}, /no challenge configured: set exactly one of webroot, listenHTTP, listenTLS, dnsHook, dnsProvider/],
  ["two challenges", { webroot: "/w", listenHTTP: ":80" }, /listenHTTP: only one challenge may be set, found webroot and listenHTTP/],
  ["relative webroot", { webroot: "www" }, /webroot: must be an absolute path/],
  ["bad listen address", { listenHTTP: "80" }, /listenHTTP: expected "\[host\]:port"/],
  ["port out of range", { listenTLS: ":70000" }, /listenTLS: expected/],
  ["extraDomainNames not an array", { webroot: "/w", extraDomainNames: "a.example.com" }, /extraDomainNames: expected an array of strings, got string/],
  ["path separator in a name", { webroot: "/w", extraDomainNames: ["a/b.example.com"] }, /extraDomainNames\[0\]: path separators/],
  ["shell metacharacter in a name", { webroot: "/w", extraDomainNames: ["a;rm.example.com"] }, /extraDomainNames\[0\]: shell metacharacters/],
  ["wildcard not leftmost", { dnsHook: "/h", extraDomainNames: ["a.*.example.com"] }, /wildcard is only allowed as the leftmost label/],
  ["partial wildcard label", { dnsHook: "/h", extraDomainNames: ["a*.example.com"] }, /only allowed as a whole leftmost label/],
  ["non-ASCII name", { webroot: "/w", domain: "bücher.example" }, /domain: non-ASCII.*A-labels/],
  ["wildcard without dns-01", { webroot: "/w", extraDomainNames: ["*.example.com"] }, /dnsProvider: the wildcard name "\*\.example\.com" needs the dns-01 challenge \(dnsProvider or dnsHook\)/],
  ["server not https", { webroot: "/w", server: "http://ca.example/dir" }, /server: must be an https:\/\/ URL/],
  ["server not a URL", { webroot: "/w", server: "ca" }, /server: not a URL/],
  ["bad email", { webroot: "/w", email: "nobody" }, /email: not an email address/],
  ["validMinDays negative", { webroot: "/w", validMinDays: -1 }, /validMinDays: must be between 0 and 3650/],
  ["validMinDays string", { webroot: "/w", validMinDays: "30" }, /validMinDays: expected a number or null, got string/],
  ["reuseKey not boolean", { webroot: "/w", reuseKey: "yes" }, /reuseKey: expected true or false, got string/],
  ["eab missing field", { webroot: "/w", eab: { kid: "k" } }, /eab\.hmacKeyFile: is required/],
  ["eab unknown field", { webroot: "/w", eab: { kid: "k", hmacKeyFile: "/k", hmacKey: "secret" } }, /eab\.hmacKey: unknown key/],
  ["reloadServices with a bad unit", { webroot: "/w", reloadServices: ["nginx; reboot"] }, /reloadServices\[0\]: not a systemd unit name/],
  ["keepVersions fractional", { webroot: "/w", keepVersions: 2.5 }, /keepVersions: expected a whole number/],
  ["empty string", { webroot: "" }, /webroot: must not be empty/],
  ["not an object", [1, 2] as unknown as Record<string, unknown>, /expected a JSON object, got array/],
  ["dnsProvider unknown", { dnsProvider: "vultr" }, /dnsProvider: "vultr" is not a provider acme-renew implements \(.*cloudflare.*\); for another lego provider use "exec"/],
  ["dnsProvider and dnsHook", { dnsProvider: "cloudflare", dnsHook: "/h" }, /only one challenge may be set, found dnsHook and dnsProvider/],
  ["dnsResolver a host name", { dnsProvider: "cloudflare", dnsResolver: "dns.example:53" }, /dnsResolver: "dns\.example:53" is not an IP address/],
  ["dnsResolver bad port", { dnsProvider: "cloudflare", dnsResolver: "1.1.1.1:99999" }, /dnsResolver: "1\.1\.1\.1:99999": port out of range/],
  ["dnsResolver empty entry", { dnsProvider: "cloudflare", dnsResolver: "1.1.1.1,,8.8.8.8" }, /dnsResolver: empty entry in the list/],
  ["credentialFiles key without _FILE", { dnsProvider: "cloudflare", credentialFiles: { CF_DNS_API_TOKEN: "/run/t" } }, /credentialFiles\.CF_DNS_API_TOKEN: not a variable name ending in _FILE/],
  ["credentialFiles relative path", { dnsProvider: "cloudflare", credentialFiles: { CF_DNS_API_TOKEN_FILE: "t" } }, /credentialFiles\.CF_DNS_API_TOKEN_FILE: must be an absolute path/],
  ["credentialFiles not an object", { dnsProvider: "cloudflare", credentialFiles: ["/t"] }, /credentialFiles: expected an object, got array/],
  ["environmentFile relative", { dnsProvider: "cloudflare", environmentFile: "x.env" }, /environmentFile: must be an absolute path/],
  ["dnsPropagationCheck not boolean", { dnsProvider: "cloudflare", dnsPropagationCheck: "no" }, /dnsPropagationCheck: expected true or false/],
];

test("dns-01 through a provider: lego's codes and aliases, resolvers, credentials", () => {
  const l = dir({
    "a.example.com.json": { dnsProvider: "rfc2136", dnsResolver: "192.0.2.53, 192.0.2.54:5353,[2001:db8::1]:53,2001:db8::2", extraDomainNames: ["*.a.example.com"] },
    "b.example.com.json": { dnsProvider: "acme-dns", environmentFile: "/run/secrets/acme-dns.env", credentialFiles: { ACME_DNS_API_BASE_FILE: "/run/secrets/base" }, dnsPropagationCheck: false, dnsPropagationTimeout: 30 },
    "c.example.com.json": { dnsHook: "/usr/local/bin/hook" },
  });
  assert.deepEqual(l.load("a.example.com").challenge, {
    type: "dns01",
    provider: "dnsupdate",
    code: "rfc2136",
    hook: null,
    resolvers: [
      { host: "192.0.2.53", port: 53 },
      { host: "192.0.2.54", port: 5353 },
      { host: "2001:db8::1", port: 53 },
      { host: "2001:db8::2", port: 53 },
    ],
    propagationCheck: true,
    propagationTimeout: null,
    environmentFile: null,
    credentialFiles: {},
  });
  const b = l.load("b.example.com").challenge;
  assert.ok(b.type === "dns01");
  assert.equal(b.provider, "acmedns");
  assert.equal(b.propagationCheck, false);
  assert.equal(b.propagationTimeout, 30);
  assert.deepEqual(b.credentialFiles, { ACME_DNS_API_BASE_FILE: "/run/secrets/base" });
  const c = l.load("c.example.com").challenge;
  assert.ok(c.type === "dns01");
  assert.equal(c.provider, "exec");
  assert.equal(c.hook, "/usr/local/bin/hook");
});

for (const [what, cfg, re] of BAD) {
  test(`config error: ${what}`, () => {
    const e = configError({ "example.com.json": cfg }, "example.com");
    assert.match(e.message, re);
    assert.match(e.message, /^config \/.*example\.com\.json: /, "names the file");
    assert.doesNotMatch(e.message, /\n/, "one line");
  });
}

test("config error: invalid JSON, missing file, bad defaults.json, per-cert key in defaults", () => {
  assert.match(configError({ "example.com.json": "{ webroot: " }, "example.com").message, /example\.com\.json: not valid JSON/);
  assert.match(configError({}, "example.com").message, /example\.com\.json: no such file/);
  assert.match(
    configError({ "defaults.json": { keyType: "dsa" }, "example.com.json": { webroot: "/w" } }, "example.com").message,
    /defaults\.json: keyType: expected one of/,
  );
  assert.match(
    configError({ "defaults.json": { domain: "x.example.com" }, "example.com.json": { webroot: "/w" } }, "example.com").message,
    /defaults\.json: domain: not allowed in defaults\.json/,
  );
  assert.match(configError({ "mycert.json": { webroot: "/w", domain: "-bad.example.com" } }, "mycert").message, /domain: invalid label/);
  assert.match(configError({ "local.json": { webroot: "/w", domain: "a..b" } }, "local").message, /domain: empty label/);
  assert.match(configError({ ".hidden.json": { webroot: "/w" } }, ".hidden").message, /certificate name "\.hidden"/);
});

test("domain name rules", () => {
  for (const ok of ["example.com", "*.example.com", "xn--bcher-kva.example", "a-b.c-d.example", "localhost"]) assert.equal(checkDomain(ok), null, ok);
  for (const bad of ["*", "*.com", "ex ample.com", "exa$mple.com", "-a.com", "a-.com", "ab--c.com", "a".repeat(64) + ".com", "../etc", "a\\b.com", ""])
    assert.notEqual(checkDomain(bad), null, bad);
  assert.deepEqual(parseHostPort("[::1]:443"), { host: "::1", port: 443 });
  assert.deepEqual(parseHostPort("127.0.0.1:8080"), { host: "127.0.0.1", port: 8080 });
  assert.equal(parseHostPort("::1:443"), null);
});

test("the one-test shortcut of checkDomain answers as the full rules do (edge names and 40,000 random ones)", () => {
  const edge = ["a", "A.B", "a".repeat(63), "a".repeat(64), `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`, `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(62)}`, "xn--bcher-kva.example", "ab--c.com", "a--b.com", "a.-b", "a.b-", "a..b", ".a", "a.", "1.2.3.4", "*.a.b", "a.*.b", "Ex-Ample.COM", "a_b.com", " a.com"];
  const alphabet = "abcXYZ019-.*_ $é/";
  let x = 7;
  const rnd = (n: number) => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0) % n);
  const random = Array.from({ length: 40_000 }, () => {
    // Mostly near-valid names: labels of a few letters and digits, with a random character now and then.
    const len = rnd(8) === 0 ? 240 + rnd(20) : rnd(30);
    let s = "";
    for (let i = 0; i < len; i++) s += rnd(12) === 0 ? alphabet[rnd(alphabet.length)]! : rnd(5) === 0 ? "." : "abz09"[rnd(5)]!;
    return s;
  });
  let shortcut = 0;
  for (const name of [...edge, ...random]) {
    assert.equal(checkDomain(name), domainProblem(name), JSON.stringify(name));
    if (checkDomain(name) === null) shortcut++;
  }
  assert.ok(shortcut > 5000, `only ${shortcut} valid names generated`);
});

test("the published JSON Schema agrees with the validator on good and bad configs", () => {
  const ajv = new Ajv2020.default({ strict: true, allErrors: true, strictTypes: false, strictRequired: false });
  ajv.addFormat("email", /@/);
  ajv.addFormat("uri", /^https?:\/\//);
  const validate = ajv.compile(jsonSchema());
  const good = { domain: "example.com", extraDomainNames: ["www.example.com"], email: "a@example.com", server: "https://ca.example/dir", keyType: "rsa4096", reuseKey: true, validMinDays: 30, webroot: "/w", reloadServices: ["nginx.service"], postRun: "true", group: "nginx", profile: "shortlived", preferredChain: "ISRG Root X1", eab: { kid: "k", hmacKeyFile: "/k" }, ari: false, placeholder: false, keepVersions: 5, timeout: 300, hookTimeout: 30, inheritDefaults: false, $schema: "x" };
  assert.equal(validate(good), true, JSON.stringify(validate.errors));
  assert.doesNotThrow(() => dir({ "example.com.json": good }).load("example.com"));
  // What a JSON Schema can express (types, enums, ranges, unknown keys, two challenges) is caught by
  // both; string syntax (domain rules, paths, URLs) only by the validator.
  const structural = ["unknown key (typo) with a suggestion", "bad keyType", "keyType not a string", "two challenges", "extraDomainNames not an array", "validMinDays negative", "validMinDays string", "reuseKey not boolean", "eab missing field", "eab unknown field", "keepVersions fractional", "empty string", "not an object", "credentialFiles key without _FILE", "credentialFiles not an object", "dnsPropagationCheck not boolean", "dnsProvider and dnsHook"];
  for (const what of structural) {
    const cfg = BAD.find(([w]) => w === what)?.[1];
    assert.ok(cfg, what);
    assert.equal(validate(cfg), false, `schema accepts: ${what}`);
  }
});

test("keys named like Object.prototype members are unknown keys, not accepted", () => {
  for (const k of ["constructor", "toString", "hasOwnProperty", "__proto__", "valueOf"]) {
    const text = `{"webroot":"/w",${JSON.stringify(k)}:1}`;
    assert.match(configError({ "example.com.json": text }, "example.com").message, new RegExp(`${k.replace(/_/g, "_")}: unknown key`), k);
  }
  assert.match(configError({ "example.com.json": { webroot: "/w", eab: { kid: "k", hmacKeyFile: "/k", constructor: 1 } } }, "example.com").message, /eab\.constructor: unknown key/);
});

test("stagingServer: Let's Encrypt staging by default for Let's Encrypt production, none for another server, else as set; ocspMustStaple accepted", () => {
  const d = dir({
    "le.example.com.json": { webroot: "/w" },
    "other.example.com.json": { webroot: "/w", server: "https://ca.example/dir" },
    "set.example.com.json": { webroot: "/w", server: "https://ca.example/dir", stagingServer: "https://staging.ca.example/dir", ocspMustStaple: true },
  });
  assert.equal(d.load("le.example.com").stagingServer, "https://acme-staging-v02.api.letsencrypt.org/directory");
  assert.equal(d.load("le.example.com").ocspMustStaple, false);
  assert.equal(d.load("other.example.com").stagingServer, null);
  assert.equal(d.load("set.example.com").stagingServer, "https://staging.ca.example/dir");
  assert.equal(d.load("set.example.com").ocspMustStaple, true);
  assert.match(configError({ "x.example.com.json": { webroot: "/w", stagingServer: "http://plain.example/dir" } }, "x.example.com").message, /stagingServer/);
  assert.match(configError({ "x.example.com.json": { webroot: "/w", ocspMustStaple: "yes" } }, "x.example.com").message, /ocspMustStaple/);
});

// ---------------------------------------------------------------------------------------
// cluster (issue 13)

const cluster = { etcd: { endpoints: ["https://10.0.0.1:2379", "http://127.0.0.1:2379"], caFile: "/etc/ca.pem", usernameFile: "/etc/u", passwordFile: "/etc/p" }, encryptionKeyFile: "/etc/k" };

test("cluster: from defaults.json, defaults filled in (prefix, standaloneWhenUnreachable)", () => {
  const c = dir({ "defaults.json": { cluster }, "a.example.com.json": { webroot: "/w" } }).load("a.example.com");
  assert.deepEqual(c.cluster, {
    etcd: { endpoints: cluster.etcd.endpoints, caFile: "/etc/ca.pem", certFile: null, keyFile: null, usernameFile: "/etc/u", passwordFile: "/etc/p" },
    prefix: "/acme-renew",
    encryptionKeyFile: "/etc/k",
    standaloneWhenUnreachable: true,
  });
  const own = dir({ "a.example.com.json": { webroot: "/w", cluster: { ...cluster, prefix: "/x/y", standaloneWhenUnreachable: false } } }).load("a.example.com");
  assert.equal(own.cluster?.prefix, "/x/y");
  assert.equal(own.cluster?.standaloneWhenUnreachable, false);
  assert.equal(dir({ "a.example.com.json": { webroot: "/w" } }).load("a.example.com").cluster, null);
});

for (const [what, c, field, re] of [
  ["no endpoints", { ...cluster, etcd: { endpoints: [] } }, "cluster.etcd.endpoints", /at least one/],
  ["endpoint with a path", { ...cluster, etcd: { endpoints: ["https://h:2379/v3"] } }, "cluster.etcd.endpoints[0]", /scheme:\/\/host:port only/],
  ["endpoint not http", { ...cluster, etcd: { endpoints: ["grpc://h:2379"] } }, "cluster.etcd.endpoints[0]", /http:\/\/ or https:\/\//],
  ["no etcd", { encryptionKeyFile: "/k" }, "cluster.etcd", /is required/],
  ["no encryptionKeyFile", { etcd: cluster.etcd }, "cluster.encryptionKeyFile", /is required/],
  ["relative key file", { ...cluster, encryptionKeyFile: "k" }, "cluster.encryptionKeyFile", /absolute/],
  ["certFile without keyFile", { ...cluster, etcd: { endpoints: ["https://h:1"], certFile: "/c" } }, "cluster.etcd.keyFile", /required with certFile/],
  ["passwordFile without usernameFile", { ...cluster, etcd: { endpoints: ["https://h:1"], passwordFile: "/p" } }, "cluster.etcd.usernameFile", /required with passwordFile/],
  ["bad prefix", { ...cluster, prefix: "acme" }, "cluster.prefix", /must start with \//],
  ["prefix with ..", { ...cluster, prefix: "/a/../b" }, "cluster.prefix", /segment/],
  ["unknown key", { ...cluster, lockTtl: 3 }, "cluster.lockTtl", /unknown key/],
] as const) {
  test(`cluster: ${what} is a config error naming ${field}`, () => {
    const e = configError({ "a.example.com.json": { webroot: "/w", cluster: c } }, "a.example.com");
    assert.equal(e.field, field, e.message);
    assert.match(e.message, re);
  });
}

test("cluster: tls-alpn-01 (listenTLS) is a config error in cluster mode, also when cluster comes from defaults.json", () => {
  const e = configError({ "defaults.json": { cluster }, "a.example.com.json": { listenTLS: ":443" } }, "a.example.com");
  assert.equal(e.field, "listenTLS");
  assert.match(e.message, /tls-alpn-01 cannot work in cluster mode/);
});

test("cluster: the JSON Schema knows the cluster object (accepts a good one, refuses unknown keys)", () => {
  const ajv = new Ajv2020.default({ strict: true, allErrors: true, strictTypes: false, strictRequired: false });
  ajv.addFormat("email", /@/);
  ajv.addFormat("uri", /^https?:\/\//);
  const validate = ajv.compile(jsonSchema());
  assert.equal(validate({ webroot: "/w", cluster }), true, JSON.stringify(validate.errors));
  assert.equal(validate({ webroot: "/w", cluster: { ...cluster, etcd: { ...cluster.etcd, port: 1 } } }), false);
  assert.equal(validate({ webroot: "/w", cluster: { etcd: cluster.etcd } }), false, "encryptionKeyFile is required");
});
