/**
 * The rfc2136/dnsupdate provider against real name servers: BIND 9 and Knot DNS (Debian packages,
 * started here on loopback), TSIG keys of every algorithm lego accepts (hmac-sha1/224/256/384/512),
 * a key file from tsig-keygen, lego v4's RFC2136_* names; a wrong secret or key name is a clear
 * error that is not retried; an unsigned update the server does not allow is refused, named.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AcmeFailure } from "../../src/acme/errors.js";
import { ConfigError } from "../../src/config/errors.js";
import { ALGORITHMS, dig, freeDnsPort, newKey, startBind, startKnot, type DnsServerHandle, type TsigKeyDef } from "../helpers/dns-servers.js";
import { driveProvider, record } from "../helpers/dns-provider.js";

const keys: TsigKeyDef[] = ALGORITHMS.map((a) => newKey(`key-${a}`, a));
const zoneRecords = ["@ NS ns1", "ns1 A 127.0.0.1"];

describe("rfc2136 against BIND 9 and Knot DNS", { timeout: 180_000 }, () => {
  const servers: Record<string, DnsServerHandle> = {};
  before(async () => {
    const port = await freeDnsPort(["127.0.0.1", "127.0.0.2"]);
    const zone = (name: string) => ({ name, records: zoneRecords, updateKeys: keys.map((k) => k.name) });
    [servers.bind, servers.knot] = await Promise.all([
      startBind({ address: "127.0.0.1", port, zones: [zone("bind.test")], keys }),
      startKnot({ address: "127.0.0.2", port, zones: [zone("knot.test")], keys }),
    ]);
  });
  after(async () => {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
  });

  for (const kind of ["bind", "knot"] as const) {
    const zone = `${kind}.test`;
    for (const k of keys) {
      test(`${kind}: ${k.algorithm}: present, visible, cleanup, gone`, async () => {
        const s = servers[kind]!;
        const p = await driveProvider("rfc2136", { RFC2136_NAMESERVER: s.hostPort, RFC2136_TSIG_KEY: k.name, RFC2136_TSIG_SECRET: k.secret, RFC2136_TSIG_ALGORITHM: `${k.algorithm}.` });
        const name = `_acme-challenge.${k.algorithm}.${zone}.`;
        await p.provider.present(record(name, `value-${k.algorithm}`));
        assert.deepEqual(await dig(s, name, "TXT"), [`"value-${k.algorithm}"`]);
        await p.provider.cleanup(record(name, `value-${k.algorithm}`));
        assert.deepEqual(await dig(s, name, "TXT"), []);
      });
    }

    test(`${kind}: two values at one name (a wildcard and its base) coexist; cleanup removes only its own`, async () => {
      const s = servers[kind]!;
      const k = keys[2]!;
      const p = await driveProvider("dnsupdate", { DNSUPDATE_NAMESERVER: s.hostPort, DNSUPDATE_TSIG_KEY: k.name, DNSUPDATE_TSIG_SECRET: k.secret, DNSUPDATE_TSIG_ALGORITHM: k.algorithm });
      const name = `_acme-challenge.both.${zone}.`;
      await Promise.all([p.provider.present(record(name, "base-value")), p.provider.present(record(name, "wildcard-value"))]);
      assert.deepEqual((await dig(s, name, "TXT")).sort(), ['"base-value"', '"wildcard-value"']);
      await p.provider.cleanup(record(name, "base-value"));
      assert.deepEqual(await dig(s, name, "TXT"), ['"wildcard-value"']);
      await p.provider.cleanup(record(name, "wildcard-value"));
      assert.deepEqual(await dig(s, name, "TXT"), []);
    });

    test(`${kind}: a wrong secret is a clear "dns" error, not retried`, async () => {
      const s = servers[kind]!;
      const k = keys[2]!;
      const wrong = newKey(k.name, k.algorithm).secret;
      const p = await driveProvider("rfc2136", { RFC2136_NAMESERVER: s.hostPort, RFC2136_TSIG_KEY: k.name, RFC2136_TSIG_SECRET: wrong, RFC2136_TSIG_ALGORITHM: k.algorithm });
      const t0 = Date.now();
      const e = await p.provider.present(record(`_acme-challenge.wrong.${zone}.`, "v")).then(
        () => assert.fail("a wrong key must fail"),
        (x: unknown) => x,
      );
      assert.ok(e instanceof AcmeFailure, String(e));
      assert.equal(e.cls, "dns");
      assert.equal(e.transient, false);
      assert.match(e.message, /dnsupdate: add TXT _acme-challenge\.wrong\..* BADSIG.*key "key-hmac-sha256"/);
      assert.ok(!e.message.includes(wrong), "the secret is not in the message");
      assert.deepEqual(p.logs.filter((l) => l.event === "dns-retry"), [], "no retry");
      assert.ok(Date.now() - t0 < 5000);
    });

    test(`${kind}: an unknown key name is BADKEY, not retried`, async () => {
      const s = servers[kind]!;
      const p = await driveProvider("rfc2136", { RFC2136_NAMESERVER: s.hostPort, RFC2136_TSIG_KEY: "no-such-key", RFC2136_TSIG_SECRET: keys[2]!.secret, RFC2136_TSIG_ALGORITHM: "hmac-sha256" });
      const e = (await p.provider.present(record(`_acme-challenge.nokey.${zone}.`, "v")).catch((x: unknown) => x)) as AcmeFailure;
      assert.ok(e instanceof AcmeFailure, String(e));
      assert.equal(e.cls, "dns");
      assert.match(e.message, /BADKEY/);
      assert.deepEqual(p.logs.filter((l) => l.event === "dns-retry"), []);
    });

    test(`${kind}: an unsigned update is refused, with a hint`, async () => {
      const s = servers[kind]!;
      const p = await driveProvider("rfc2136", { RFC2136_NAMESERVER: s.hostPort });
      const e = (await p.provider.present(record(`_acme-challenge.unsigned.${zone}.`, "v")).catch((x: unknown) => x)) as AcmeFailure;
      assert.ok(e instanceof AcmeFailure, String(e));
      assert.equal(e.cls, "dns");
      assert.match(e.message, /REFUSED|NOTAUTH/);
      assert.match(e.message, /refused|not authoritative/);
    });
  }

  test("bind: a key file from tsig-keygen (DNSUPDATE_TSIG_FILE) and DNSUPDATE_ZONES", async () => {
    const s = servers.bind!;
    const k = keys[4]!;
    const dir = mkdtempSync(join(tmpdir(), "acme-renew-tsigfile-"));
    const file = join(dir, "k.key");
    writeFileSync(file, `key "${k.name}" {\n\talgorithm ${k.algorithm};\n\tsecret "${k.secret}";\n};\n`, { mode: 0o600 });
    const p = await driveProvider("dnsupdate", { DNSUPDATE_NAMESERVER: s.hostPort, DNSUPDATE_TSIG_FILE: file, DNSUPDATE_ZONES: "bind.test" });
    const name = "_acme-challenge.file.bind.test.";
    await p.provider.present(record(name, "from-file"));
    assert.deepEqual(await dig(s, name, "TXT"), ['"from-file"']);
    await p.provider.cleanup(record(name, "from-file"));
    // and tsig-keygen's own output parses the same way
    const generated = execFileSync("tsig-keygen", ["-a", "hmac-sha384", "gen-key"], { encoding: "utf8" });
    writeFileSync(file, generated);
    const q = await driveProvider("dnsupdate", { DNSUPDATE_NAMESERVER: s.hostPort, DNSUPDATE_TSIG_FILE: file });
    assert.equal((q.prepared.config as { key: { name: string; algorithm: string } }).key.algorithm, "hmac-sha384.");
  });

  test("bad variables are configuration errors naming the variable (no network)", async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{}, /dnsupdate: DNSUPDATE_NAMESERVER or RFC2136_NAMESERVER: not set/],
      [{ DNSUPDATE_NAMESERVER: "a b" }, /DNSUPDATE_NAMESERVER: "a b" is not "host" or "host:port"/],
      [{ DNSUPDATE_NAMESERVER: "127.0.0.1", DNSUPDATE_TSIG_KEY: "k" }, /DNSUPDATE_TSIG_SECRET: not set, but DNSUPDATE_TSIG_KEY is/],
      [{ DNSUPDATE_NAMESERVER: "127.0.0.1", DNSUPDATE_TSIG_KEY: "k", DNSUPDATE_TSIG_SECRET: "c2VjcmV0", DNSUPDATE_TSIG_ALGORITHM: "hmac-md5.sig-alg.reg.int." }, /DNSUPDATE_TSIG_ALGORITHM: "hmac-md5.sig-alg.reg.int." is not one of/],
      [{ DNSUPDATE_NAMESERVER: "127.0.0.1", DNSUPDATE_TSIG_KEY: "k", DNSUPDATE_TSIG_SECRET: "not base64!" }, /DNSUPDATE_TSIG_SECRET: the secret is not valid base64/],
      [{ DNSUPDATE_NAMESERVER: "127.0.0.1", DNSUPDATE_TSIG_ALGORITHM: "gss-tsig." }, /GSS-TSIG \(Kerberos\) is not supported/],
      [{ DNSUPDATE_NAMESERVER: "127.0.0.1", DNSUPDATE_TSIG_FILE: "/nonexistent/k.key" }, /DNSUPDATE_TSIG_FILE: cannot read \/nonexistent\/k\.key \(ENOENT\)/],
      [{ DNSUPDATE_NAMESERVER: "127.0.0.1", DNSUPDATE_TTL: "soon" }, /DNSUPDATE_TTL: expected a whole number/],
      [{ DNSUPDATE_NAMESERVER_FILE: "/nonexistent/ns" }, /DNSUPDATE_NAMESERVER_FILE .*cannot read \/nonexistent\/ns \(ENOENT\)/],
    ];
    for (const [vars, pattern] of cases) {
      const e = await driveProvider("dnsupdate", vars).then(
        () => null,
        (x: unknown) => x,
      );
      assert.ok(e instanceof ConfigError, `${JSON.stringify(vars)}: expected a ConfigError, got ${String(e)}`);
      assert.match(e.message, pattern);
    }
  });
});
