/**
 * The other ways providers authenticate and find their accounts, against local fakes:
 *  - acme-dns: a domain without an account registers one (POST /register), stores it (0600) and
 *    stops naming the CNAME to create; a CNAME that leads elsewhere is refused before any update;
 *    lego's HTTP storage (ACME_DNS_STORAGE_BASE_URL);
 *  - route53: the shared credentials file (AWS_PROFILE), the EC2 instance metadata service (IMDSv2,
 *    AWS_EC2_METADATA_SERVICE_ENDPOINT) and AWS_ASSUME_ROLE_ARN through STS (AWS_ENDPOINT_URL_STS);
 *  - ovh: an access token, OAuth2 client credentials;
 *  - gcloud: the metadata server (GCE_METADATA_HOST) for the token and the project;
 *  - inwx: the TOTP code of RFC 6238's test vector.
 * The fakes document the endpoints they stand for.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AcmeFailure } from "../../src/acme/errors.js";
import { base32, totp } from "../../src/dns/providers/inwx.js";
import { freeDnsPort, startBind, type DnsServerHandle } from "../helpers/dns-servers.js";
import { driveProvider, record } from "../helpers/dns-provider.js";
import { fakeTls, refuse, startFakeApi, TxtStore, type FakeApi } from "../helpers/fake-api.js";
import { acmednsFake, type AcmeDnsAccount } from "../helpers/fakes/acmedns.js";
import { gcloudFake } from "../helpers/fakes/gcloud.js";
import { generateKeyPairSync } from "node:crypto";
import { route53Fake } from "../helpers/fakes/route53.js";

test("inwx: TOTP is RFC 6238's (SHA-1 test vectors, 6 digits) from a base32 secret", () => {
  const secret = Buffer.from("12345678901234567890");
  for (const [t, code] of [[59, "287082"], [1111111109, "081804"], [1234567890, "005924"], [2000000000, "279037"]] as const) assert.equal(totp(secret, t), code, `T=${t}`);
  assert.deepEqual(base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), secret);
  assert.equal(base32("not base32!"), null);
});

describe("provider authentication variants", { timeout: 120_000 }, () => {
  let bind: DnsServerHandle;
  const fakes: FakeApi[] = [];
  const resolvers = () => [{ host: bind.address, port: bind.port }];
  const ca = () => fakeTls().caPem;
  before(async () => {
    bind = await startBind({
      address: "127.0.0.1",
      port: await freeDnsPort(["127.0.0.1"]),
      zones: [
        { name: "acmedns.test", records: ["@ NS ns1", "ns1 A 127.0.0.1", "_acme-challenge.wrong CNAME elsewhere.acmedns.test."] },
        { name: "route53.test", records: ["@ NS ns1", "ns1 A 127.0.0.1"] },
        { name: "ovh.test", records: ["@ NS ns1", "ns1 A 127.0.0.1"] },
        { name: "gcloud.test", records: ["@ NS ns1", "ns1 A 127.0.0.1"] },
      ],
    });
  });
  after(async () => {
    await Promise.all(fakes.map((f) => f.stop()));
    await bind?.stop();
  });
  const start = async (...a: Parameters<typeof startFakeApi>) => {
    const f = await startFakeApi(...a);
    fakes.push(f);
    return f;
  };

  test("acme-dns: a new domain registers an account, stores it 0600, and names the CNAME to create", async () => {
    const accounts: AcmeDnsAccount[] = [];
    const fake = await start(acmednsFake({ accounts, authZone: "auth.acmedns.test" }), { plain: true });
    const dir = mkdtempSync(join(tmpdir(), "acme-renew-acmedns-reg-"));
    const storage = join(dir, "accounts.json");
    const p = await driveProvider("acme-dns", { ACME_DNS_API_BASE: fake.url, ACME_DNS_STORAGE_PATH: storage, ACME_DNS_ALLOWLIST: "192.0.2.0/24" }, { resolvers: resolvers() });
    const e = (await p.provider.present({ ...record("_acme-challenge.new.acmedns.test.", "v".repeat(43)), domain: "new.acmedns.test" }).catch((x: unknown) => x)) as AcmeFailure;
    assert.ok(e instanceof AcmeFailure, String(e));
    assert.equal(e.cls, "dns");
    assert.equal(accounts.length, 1);
    assert.match(e.message, new RegExp(`registered a new acme-dns account for new\\.acmedns\\.test: create the record "_acme-challenge\\.new\\.acmedns\\.test\\. CNAME ${accounts[0]!.fulldomain.replace(/\./g, "\\.")}\\." in your DNS zone, then run again`));
    assert.ok(!e.message.includes(accounts[0]!.password), "the account's password is not in the message");
    const saved = JSON.parse(readFileSync(storage, "utf8")) as Record<string, AcmeDnsAccount>;
    assert.equal(saved["new.acmedns.test"]!.password, accounts[0]!.password);
    assert.equal(statSync(storage).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(fake.requests[0]!.body), { allowfrom: ["192.0.2.0/24"] });
    // the next run uses the stored account — and refuses a name whose CNAME does not lead to it
    const q = await driveProvider("acme-dns", { ACME_DNS_API_BASE: fake.url, ACME_DNS_STORAGE_PATH: storage }, { resolvers: resolvers() });
    const e2 = (await q.provider.present({ ...record("_acme-challenge.new.acmedns.test.", "v".repeat(43)), domain: "new.acmedns.test" }).catch((x: unknown) => x)) as AcmeFailure;
    assert.match(e2.message, /_acme-challenge\.new\.acmedns\.test\. must be a CNAME to .* but it is not a CNAME/);
    assert.equal(fake.requests.length, 1, "no update was sent");
    await q.provider.present({ ...record(`${accounts[0]!.fulldomain}.`, "w".repeat(43)), domain: "new.acmedns.test" });
    assert.deepEqual(fake.store.get(accounts[0]!.fulldomain), ["w".repeat(43)]);
  });

  test("acme-dns: lego's HTTP storage (GET/POST <base>/<domain>)", async () => {
    const account: AcmeDnsAccount = { username: "u1", password: `pw-${randomBytes(8).toString("hex")}`, fulldomain: "s1.auth.acmedns.test", subdomain: "s1" };
    const api = await start(acmednsFake({ accounts: [account], authZone: "auth.acmedns.test" }), { plain: true });
    const storage = await start((r, f) => (r.method === "GET" && r.path === "/accounts/x.acmedns.test" ? { json: account } : r.method === "GET" ? { status: 404, body: "" } : refuse(f, r, "unexpected")));
    const p = await driveProvider("acmedns", { ACME_DNS_API_BASE: api.url, ACME_DNS_STORAGE_BASE_URL: `${storage.url}/accounts` }, { resolvers: resolvers(), extraCa: ca() });
    await p.provider.present({ ...record("s1.auth.acmedns.test.", "x".repeat(43)), domain: "x.acmedns.test" });
    assert.deepEqual(api.store.get("s1.auth.acmedns.test"), ["x".repeat(43)]);
    assert.deepEqual(storage.violations, []);
  });

  test("route53: credentials from the shared file (AWS_PROFILE), from IMDSv2, and through AssumeRole", async () => {
    const keyId = "AKIAPROFILE0001";
    const secret = `secret-${randomBytes(8).toString("hex")}`;
    const store = new TxtStore();
    let url = "";
    const r53 = await start(route53Fake({ keyId, secret, zones: { "route53.test": "ZP1" }, base: () => url }), { store });
    url = r53.url;
    const dir = mkdtempSync(join(tmpdir(), "acme-renew-aws-"));
    const file = join(dir, "credentials");
    writeFileSync(file, `[default]\naws_access_key_id = wrong\naws_secret_access_key = wrong\n\n[dns]\naws_access_key_id = ${keyId}\naws_secret_access_key = ${secret}\n`, { mode: 0o600 });
    const common = { AWS_ENDPOINT_URL_ROUTE_53: r53.url, AWS_POLLING_INTERVAL: "1", AWS_EC2_METADATA_DISABLED: "true" };
    const a = await driveProvider("route53", { ...common, AWS_SHARED_CREDENTIALS_FILE: file, AWS_PROFILE: "dns" }, { resolvers: resolvers(), extraCa: ca() });
    await a.provider.present(record("_acme-challenge.p.route53.test.", "from-profile"));
    assert.deepEqual(store.get("_acme-challenge.p.route53.test"), ["from-profile"]);

    // IMDSv2 (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html)
    const imdsToken = "imds-session-token-0123";
    const imds = await start((r, f) => {
      if (r.method === "PUT" && r.path === "/latest/api/token") return r.headers["x-aws-ec2-metadata-token-ttl-seconds"] ? { body: imdsToken } : refuse(f, r, "ttl header missing");
      if (r.headers["x-aws-ec2-metadata-token"] !== imdsToken) return { status: 401, body: "" };
      if (r.path === "/latest/meta-data/iam/security-credentials/") return { body: "dns-role" };
      if (r.path === "/latest/meta-data/iam/security-credentials/dns-role") return { json: { Code: "Success", AccessKeyId: keyId, SecretAccessKey: secret, Token: "session-from-imds", Expiration: new Date(Date.now() + 3600_000).toISOString() } };
      return refuse(f, r, "no such path", 404);
    }, { plain: true });
    const b = await driveProvider("route53", { ...common, AWS_EC2_METADATA_DISABLED: "false", AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url, HOME: dir }, { resolvers: resolvers(), extraCa: ca() });
    await b.provider.present(record("_acme-challenge.i.route53.test.", "from-imds"));
    assert.deepEqual(store.get("_acme-challenge.i.route53.test"), ["from-imds"]);
    assert.ok(r53.requests.some((q) => q.headers["x-amz-security-token"] === "session-from-imds"), "the session token is sent");
    assert.deepEqual(imds.violations, []);

    // STS AssumeRole (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html)
    const sts = await start((r, f) => {
      const form = new URLSearchParams(r.body);
      if (r.method !== "POST" || form.get("Action") !== "AssumeRole" || form.get("Version") !== "2011-06-15") return refuse(f, r, "not an AssumeRole call");
      if (form.get("RoleArn") !== "arn:aws:iam::123456789012:role/dns" || form.get("ExternalId") !== "ext-1") return refuse(f, r, "role or external id");
      if (!/Credential=base-key-id\/\d{8}\/us-east-1\/sts\/aws4_request/.test(String(r.headers.authorization))) return { status: 403, body: "<ErrorResponse><Error><Code>InvalidClientTokenId</Code><Message>bad</Message></Error></ErrorResponse>" };
      return { body: `<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>${keyId}</AccessKeyId><SecretAccessKey>${secret}</SecretAccessKey><SessionToken>session-from-sts</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>`, headers: { "content-type": "text/xml" } };
    });
    const c = await driveProvider("route53", { ...common, AWS_ACCESS_KEY_ID: "base-key-id", AWS_SECRET_ACCESS_KEY: "base-secret-0123", AWS_ASSUME_ROLE_ARN: "arn:aws:iam::123456789012:role/dns", AWS_EXTERNAL_ID: "ext-1", AWS_ENDPOINT_URL_STS: sts.url }, { resolvers: resolvers(), extraCa: ca() });
    await c.provider.present(record("_acme-challenge.s.route53.test.", "from-sts"));
    assert.deepEqual(store.get("_acme-challenge.s.route53.test"), ["from-sts"]);
    assert.deepEqual(sts.violations, []);
    assert.deepEqual(r53.violations, []);
  });

  test("ovh: an access token, and OAuth2 client credentials", async () => {
    const store = new TxtStore();
    const bearer = `ovh-token-${randomBytes(6).toString("hex")}`;
    const seen: string[] = [];
    // Bearer-token requests to the same endpoints the application-key fake (fakes/ovh.ts) serves.
    const api = await start(async (r, f) => {
      seen.push(String(r.headers.authorization));
      if (r.headers.authorization !== `Bearer ${bearer}`) return { status: 401, json: { message: "invalid token" } };
      const m = /^\/1\.0\/domain\/zone\/ovh\.test\/(record|refresh)/.exec(r.path);
      if (!m) return refuse(f, r, "no such endpoint", 404);
      if (r.method === "POST" && m[1] === "record") {
        const b = JSON.parse(r.body) as { subDomain: string; target: string };
        await f.store.add(`${b.subDomain}.ovh.test`, b.target);
        return { json: { id: 7, ...b } };
      }
      return { json: null };
    }, { store });
    const a = await driveProvider("ovh", { OVH_ENDPOINT: `${api.url}/1.0`, OVH_ACCESS_TOKEN: bearer }, { resolvers: resolvers(), extraCa: ca() });
    await a.provider.present(record("_acme-challenge.t.ovh.test.", "via-token"));
    assert.deepEqual(store.get("_acme-challenge.t.ovh.test"), ["via-token"]);
    // OAuth2 client credentials (https://help.ovhcloud.com/csm/en-manage-service-account?id=kb_article_view&sysparm_article=KB0059343)
    const oauth = await start((r, f) => {
      const form = new URLSearchParams(r.body);
      if (form.get("grant_type") !== "client_credentials" || form.get("client_id") !== "cid" || form.get("client_secret") !== "csecret-0123" || form.get("scope") !== "all") return refuse(f, r, "client credentials grant", 401);
      return { json: { access_token: bearer, token_type: "Bearer", expires_in: 3600 } };
    });
    process.env._ACME_RENEW_TEST_OVH_TOKEN_URL = `${oauth.url}/auth/oauth2/token`;
    try {
      const b = await driveProvider("ovh", { OVH_ENDPOINT: `${api.url}/1.0`, OVH_CLIENT_ID: "cid", OVH_CLIENT_SECRET: "csecret-0123" }, { resolvers: resolvers(), extraCa: ca() });
      await b.provider.present(record("_acme-challenge.o.ovh.test.", "via-oauth2"));
      assert.deepEqual(store.get("_acme-challenge.o.ovh.test"), ["via-oauth2"]);
      assert.deepEqual(oauth.violations, []);
      assert.equal(oauth.requests.length, 1, "one token for the run");
    } finally {
      delete process.env._ACME_RENEW_TEST_OVH_TOKEN_URL;
    }
    assert.ok(seen.every((h) => h === `Bearer ${bearer}`));
  });

  test("gcloud: no key given — token and project from the metadata server (GCE_METADATA_HOST)", async () => {
    const store = new TxtStore();
    const dnsApi = await start(gcloudFake({ email: "-", publicKey: generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey, project: "proj-md", zones: { "gcloud.test.": "zone-md" }, tokenUrl: () => "-" }), { store });
    // https://cloud.google.com/compute/docs/access/authenticate-workloads#applications , …/metadata/querying-metadata
    const md = await start((r, f) => {
      if (r.headers["metadata-flavor"] !== "Google") return refuse(f, r, "Metadata-Flavor: Google missing", 403);
      if (r.path === "/computeMetadata/v1/instance/service-accounts/default/token") return { json: { access_token: "ya29.fake-access-token-0123456789", expires_in: 3599, token_type: "Bearer" } };
      if (r.path === "/computeMetadata/v1/project/project-id") return { body: "proj-md" };
      return refuse(f, r, "no such path", 404);
    }, { plain: true });
    process.env._ACME_RENEW_TEST_GCLOUD_URL = `${dnsApi.url}/dns/v1`;
    try {
      const p = await driveProvider("gcloud", { GCE_METADATA_HOST: md.url.replace(/^http:\/\//, "") }, { resolvers: resolvers(), extraCa: ca() });
      await p.provider.present(record("_acme-challenge.m.gcloud.test.", "from-metadata"));
      assert.deepEqual(store.get("_acme-challenge.m.gcloud.test."), ["from-metadata"]);
      await p.provider.cleanup(record("_acme-challenge.m.gcloud.test.", "from-metadata"));
      assert.deepEqual(store.get("_acme-challenge.m.gcloud.test."), []);
      assert.deepEqual([...md.violations, ...dnsApi.violations], []);
    } finally {
      delete process.env._ACME_RENEW_TEST_GCLOUD_URL;
    }
  });
});
