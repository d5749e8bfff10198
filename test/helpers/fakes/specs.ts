/**
 * One entry per HTTP-API provider for test/e2e/dns-providers.test.ts: how to start its fake, the
 * variables that point the provider at it, the requests one present + cleanup must make, and
 * variables that must be refused.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeApi, type FakeApi, type TxtStore } from "../fake-api.js";
import { setCname, type Pebble } from "../pebble.js";
import { acmednsFake, type AcmeDnsAccount } from "./acmedns.js";
import { gcloudFake } from "./gcloud.js";
import { inwxFake } from "./inwx.js";
import { namecheapFake } from "./namecheap.js";
import { ovhFake } from "./ovh.js";
import { route53Fake } from "./route53.js";
import { cloudflareFake } from "./cloudflare.js";
import { desecFake } from "./desec.js";
import { digitaloceanFake } from "./digitalocean.js";
import { duckdnsFake } from "./duckdns.js";
import { gandiFake } from "./gandiv5.js";
import { hetznerFake } from "./hetzner.js";
import { porkbunFake } from "./porkbun.js";

export interface ProviderSpec {
  code: string;
  /** The zone (served by the test's BIND) the records go into. */
  zone: string;
  start(store: TxtStore): Promise<FakeApi>;
  /** The provider's variables (lego's names), pointing at the fake. */
  vars(fake: FakeApi): Record<string, string>;
  /** Internal base-URL seams (_ACME_RENEW_TEST_<CODE>_URL) for providers without a lego variable for it. */
  internalEnv?(fake: FakeApi): Record<string, string>;
  /** Further environment of the CLI runs. */
  cliEnv?(fake: FakeApi): Record<string, string>;
  /** Values that must never appear in any output. */
  secrets(fake: FakeApi): string[];
  /** Further records of the zone in the test's BIND (e.g. CNAMEs). */
  records?: string[];
  /** Runs once Pebble is up (e.g. CNAMEs in challtestsrv). */
  setup?(pebble: Pebble): Promise<void>;
  /** The name the driven present/cleanup uses (default `_acme-challenge.a.<zone>.`), and its authorization domain. */
  drive?: { fqdn: string; domain: string };
  /** `METHOD /path` of present + cleanup of `_acme-challenge.a.<zone>`. */
  requests: string[];
  /** Variables → the configuration error they must give. */
  bad(fake: FakeApi): Array<[Record<string, string>, RegExp]>;
}

const CF_TOKEN = "cf-token-0123456789abcdef";
const HZ_TOKEN = "hetzner-cloud-token-5f3a9c";
const DO_TOKEN = "dop_v1_0123456789abcdef0123";
const DESEC_TOKEN = "desec-token-a1b2c3d4e5f6";
const PB_KEY = "pk1_porkbun_key_0123456789";
const PB_SECRET = "sk1_porkbun_secret_987654";
const GANDI_PAT = "gandi-pat-0011223344556677";
const DUCK_TOKEN = "b7e9f1a2-duck-4c3d-token-9e8f";
const OVH = { ak: "ovh-app-key-7c1d", as: "ovh-app-secret-91e2f3a4b5", ck: "ovh-consumer-key-d4e5f6a7b8" };
const NC = { user: "ncuser", key: "namecheap-api-key-0f1e2d3c4b" };
const INWX = { user: "inwx-user", pass: "inwx-password-5a6b7c8d9e" };
const AWS = { keyId: "AKIAFAKEACMERENEW01", secret: "aws-secret-access-key-fake-0123456789" };

const acmeDnsAccounts: AcmeDnsAccount[] = [
  { username: "u-a-0001", password: "acmedns-password-a-0123456789", fulldomain: "sub-a.auth.acmedns.test", subdomain: "sub-a" },
  { username: "u-www-0002", password: "acmedns-password-www-0123456789", fulldomain: "sub-www.auth.acmedns.test", subdomain: "sub-www" },
];
const acmeDnsStorage = (() => {
  const dir = mkdtempSync(join(tmpdir(), "acme-renew-acmedns-"));
  const file = join(dir, "accounts.json");
  writeFileSync(file, JSON.stringify({ "a.acmedns.test": acmeDnsAccounts[0], "www.acmedns.test": acmeDnsAccounts[1] }), { mode: 0o600 });
  return file;
})();

const gcloudKey = generateKeyPairSync("rsa", { modulusLength: 2048 });
const gcloudKeyFile = (tokenUrl: string) => {
  const dir = mkdtempSync(join(tmpdir(), "acme-renew-gcloud-"));
  const file = join(dir, "sa.json");
  writeFileSync(file, JSON.stringify({ type: "service_account", project_id: "proj-1", private_key_id: "k1", private_key: gcloudKey.privateKey.export({ type: "pkcs8", format: "pem" }), client_email: "acme@proj-1.iam.gserviceaccount.com", token_uri: tokenUrl }), { mode: 0o600 });
  return file;
};


export const SPECS: ProviderSpec[] = [
  {
    code: "cloudflare",
    zone: "cloudflare.test",
    start: (store) => startFakeApi(cloudflareFake({ token: CF_TOKEN, zones: { "cloudflare.test": "zone-cf-1" } }), { store }),
    vars: (f) => ({ CF_DNS_API_TOKEN: CF_TOKEN, CLOUDFLARE_BASE_URL: `${f.url}/client/v4` }),
    secrets: () => [CF_TOKEN],
    requests: ["GET /client/v4/zones", "POST /client/v4/zones/zone-cf-1/dns_records", "DELETE /client/v4/zones/zone-cf-1/dns_records/rec-1"],
    bad: (f) => [
      [{ CLOUDFLARE_BASE_URL: `${f.url}/client/v4` }, /CLOUDFLARE_DNS_API_TOKEN \(or CF_DNS_API_TOKEN\), or CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY: not set/],
      [{ CF_API_EMAIL: "a@example.com" }, /CLOUDFLARE_API_KEY \(or CF_API_KEY\): not set, but the email is/],
      [{ CF_DNS_API_TOKEN: CF_TOKEN, CLOUDFLARE_TTL: "60" }, /CLOUDFLARE_TTL: 60 is below Cloudflare's minimum of 120/],
      [{ CF_DNS_API_TOKEN: CF_TOKEN, CLOUDFLARE_BASE_URL: "not a url" }, /CLOUDFLARE_BASE_URL: "not a url" is not a URL/],
    ],
  },
  {
    code: "hetzner",
    zone: "hetzner.test",
    start: (store) => startFakeApi(hetznerFake({ token: HZ_TOKEN, zones: ["hetzner.test"] }), { store }),
    vars: () => ({ HETZNER_API_TOKEN: HZ_TOKEN }),
    internalEnv: (f) => ({ _ACME_RENEW_TEST_HETZNER_URL: `${f.url}/v1` }),
    secrets: () => [HZ_TOKEN],
    requests: [
      "POST /v1/zones/hetzner.test/rrsets/_acme-challenge.a/TXT/actions/add_records",
      "GET /v1/actions/1",
      "POST /v1/zones/hetzner.test/rrsets/_acme-challenge.a/TXT/actions/remove_records",
      "GET /v1/actions/2",
    ],
    bad: () => [
      [{}, /hetzner: HETZNER_API_TOKEN: not set/],
      [{ HETZNER_API_KEY: "old-dns-console-key" }, /HETZNER_API_KEY is a token of the old Hetzner DNS Console API.*set HETZNER_API_TOKEN/],
      [{ HETZNER_API_TOKEN: HZ_TOKEN, HETZNER_PROPAGATION_TIMEOUT: "-5" }, /HETZNER_PROPAGATION_TIMEOUT: expected a whole number/],
    ],
  },
  {
    code: "digitalocean",
    zone: "digitalocean.test",
    start: (store) => startFakeApi(digitaloceanFake({ token: DO_TOKEN, zones: ["digitalocean.test"] }), { store }),
    vars: (f) => ({ DO_AUTH_TOKEN: DO_TOKEN, DO_API_URL: f.url }),
    secrets: () => [DO_TOKEN],
    requests: ["POST /v2/domains/digitalocean.test/records", "DELETE /v2/domains/digitalocean.test/records/1001"],
    bad: (f) => [
      [{ DO_API_URL: f.url }, /digitalocean: DO_AUTH_TOKEN: not set/],
      [{ DO_AUTH_TOKEN: DO_TOKEN, DO_TTL: "thirty" }, /DO_TTL: expected a whole number/],
    ],
  },
  {
    code: "desec",
    zone: "desec.test",
    start: (store) => startFakeApi(desecFake({ token: DESEC_TOKEN, domains: ["desec.test"] }), { store }),
    vars: () => ({ DESEC_TOKEN }),
    internalEnv: (f) => ({ _ACME_RENEW_TEST_DESEC_URL: `${f.url}/api/v1` }),
    secrets: () => [DESEC_TOKEN],
    requests: [
      "GET /api/v1/domains/",
      "GET /api/v1/domains/desec.test/rrsets/_acme-challenge.a/TXT/",
      "POST /api/v1/domains/desec.test/rrsets/",
      "GET /api/v1/domains/",
      "GET /api/v1/domains/desec.test/rrsets/_acme-challenge.a/TXT/",
      "PATCH /api/v1/domains/desec.test/rrsets/_acme-challenge.a/TXT/",
    ],
    bad: () => [[{}, /desec: DESEC_TOKEN: not set/]],
  },
  {
    code: "porkbun",
    zone: "porkbun.test",
    start: (store) => startFakeApi(porkbunFake({ apikey: PB_KEY, secretapikey: PB_SECRET, domains: ["porkbun.test"] }), { store }),
    vars: () => ({ PORKBUN_API_KEY: PB_KEY, PORKBUN_SECRET_API_KEY: PB_SECRET }),
    internalEnv: (f) => ({ _ACME_RENEW_TEST_PORKBUN_URL: `${f.url}/api/json/v3` }),
    secrets: () => [PB_KEY, PB_SECRET],
    requests: ["POST /api/json/v3/dns/create/porkbun.test", "POST /api/json/v3/dns/delete/porkbun.test/5001"],
    bad: () => [
      [{ PORKBUN_API_KEY: PB_KEY }, /porkbun: PORKBUN_SECRET_API_KEY: not set/],
      [{ PORKBUN_SECRET_API_KEY: PB_SECRET }, /porkbun: PORKBUN_API_KEY: not set/],
    ],
  },
  {
    code: "gandiv5",
    zone: "gandi.test",
    start: (store) => startFakeApi(gandiFake({ pat: GANDI_PAT, domains: ["gandi.test"] }), { store }),
    vars: () => ({ GANDIV5_PERSONAL_ACCESS_TOKEN: GANDI_PAT }),
    internalEnv: (f) => ({ _ACME_RENEW_TEST_GANDIV5_URL: `${f.url}/v5/livedns` }),
    secrets: () => [GANDI_PAT],
    requests: [
      "GET /v5/livedns/domains/gandi.test/records/_acme-challenge.a/TXT",
      "PUT /v5/livedns/domains/gandi.test/records/_acme-challenge.a/TXT",
      "GET /v5/livedns/domains/gandi.test/records/_acme-challenge.a/TXT",
      "DELETE /v5/livedns/domains/gandi.test/records/_acme-challenge.a/TXT",
    ],
    bad: () => [
      [{}, /gandiv5: GANDIV5_PERSONAL_ACCESS_TOKEN: not set/],
      [{ GANDIV5_PERSONAL_ACCESS_TOKEN: GANDI_PAT, GANDIV5_TTL: "60" }, /GANDIV5_TTL: 60 is below Gandi's minimum of 300/],
    ],
  },
  {
    code: "duckdns",
    zone: "duckdns.org",
    start: (store) => startFakeApi(duckdnsFake({ token: DUCK_TOKEN, domains: ["a", "f", "www"] }), { store }),
    vars: () => ({ DUCKDNS_TOKEN: DUCK_TOKEN, DUCKDNS_SEQUENCE_INTERVAL: "1" }),
    internalEnv: (f) => ({ _ACME_RENEW_TEST_DUCKDNS_URL: `${f.url}/update` }),
    secrets: () => [DUCK_TOKEN],
    requests: ["GET /update", "GET /update"],
    bad: () => [[{}, /duckdns: DUCKDNS_TOKEN: not set/]],
  },
  {
    code: "acmedns",
    zone: "acmedns.test",
    records: ["_acme-challenge.a CNAME sub-a.auth.acmedns.test.", "_acme-challenge.www CNAME sub-www.auth.acmedns.test."],
    setup: (pebble) => setCname(pebble, "_acme-challenge.www.acmedns.test.", "sub-www.auth.acmedns.test."),
    drive: { fqdn: "sub-a.auth.acmedns.test.", domain: "a.acmedns.test" },
    start: (store) => startFakeApi(acmednsFake({ accounts: acmeDnsAccounts, authZone: "auth.acmedns.test" }), { store }),
    vars: (f) => ({ ACME_DNS_API_BASE: f.url, ACME_DNS_STORAGE_PATH: acmeDnsStorage }),
    secrets: () => acmeDnsAccounts.map((a) => a.password),
    requests: ["POST /update"],
    bad: (f) => [
      [{ ACME_DNS_STORAGE_PATH: acmeDnsStorage }, /acmedns: ACME_DNS_API_BASE: not set/],
      [{ ACME_DNS_API_BASE: f.url }, /ACME_DNS_STORAGE_PATH or ACME_DNS_STORAGE_BASE_URL: not set/],
      [{ ACME_DNS_API_BASE: f.url, ACME_DNS_STORAGE_PATH: acmeDnsStorage, ACME_DNS_STORAGE_BASE_URL: f.url }, /set only one/],
      [{ ACME_DNS_API_BASE: "ftp://x", ACME_DNS_STORAGE_PATH: acmeDnsStorage }, /ACME_DNS_API_BASE: "ftp:\/\/x" is not an http\(s\) URL/],
    ],
  },
  {
    code: "ovh",
    zone: "ovh.test",
    start: (store) => {
      let url = "";
      return startFakeApi(ovhFake({ ...OVH, zones: ["ovh.test"], base: () => url }), { store }).then((f) => ((url = `${f.url}/1.0`), f));
    },
    vars: (f) => ({ OVH_ENDPOINT: `${f.url}/1.0`, OVH_APPLICATION_KEY: OVH.ak, OVH_APPLICATION_SECRET: OVH.as, OVH_CONSUMER_KEY: OVH.ck }),
    secrets: () => [OVH.as, OVH.ck],
    requests: ["GET /1.0/auth/time", "POST /1.0/domain/zone/ovh.test/record", "POST /1.0/domain/zone/ovh.test/refresh", "DELETE /1.0/domain/zone/ovh.test/record/2", "POST /1.0/domain/zone/ovh.test/refresh"],
    bad: (f) => [
      [{ OVH_ENDPOINT: `${f.url}/1.0` }, /ovh: OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY \(or OVH_CLIENT_ID and OVH_CLIENT_SECRET, or OVH_ACCESS_TOKEN\): not set/],
      [{ OVH_APPLICATION_KEY: OVH.ak, OVH_APPLICATION_SECRET: OVH.as }, /OVH_CONSUMER_KEY: not set/],
      [{ OVH_APPLICATION_KEY: OVH.ak, OVH_APPLICATION_SECRET: OVH.as, OVH_CONSUMER_KEY: OVH.ck, OVH_ACCESS_TOKEN: "t0123456" }, /more than one way to authenticate/],
      [{ OVH_ENDPOINT: "ovh-mars", OVH_ACCESS_TOKEN: "t0123456" }, /OVH_ENDPOINT: "ovh-mars" is neither one of ovh-eu/],
      [{ OVH_ENDPOINT: "kimsufi-eu", OVH_CLIENT_ID: "id", OVH_CLIENT_SECRET: "secret" }, /OAuth2 is not available with OVH_ENDPOINT kimsufi-eu/],
    ],
  },
  {
    code: "namecheap",
    zone: "namecheap.test",
    start: (store) =>
      startFakeApi(
        namecheapFake({ ...NC, ip: "192.0.2.10", domains: { "namecheap.test": [{ Name: "@", Type: "A", Address: "192.0.2.1", MXPref: "10", TTL: "1800" }, { Name: "@", Type: "MX", Address: "mail.namecheap.test.", MXPref: "10", TTL: "1800" }] } }),
        { store },
      ),
    vars: () => ({ NAMECHEAP_API_USER: NC.user, NAMECHEAP_API_KEY: NC.key }),
    internalEnv: (f) => ({ _ACME_RENEW_TEST_NAMECHEAP_URL: `${f.url}/xml.response`, _ACME_RENEW_TEST_NAMECHEAP_IP_URL: `${f.url}/getip` }),
    secrets: () => [NC.key],
    requests: ["GET /getip", "GET /xml.response", "POST /xml.response", "GET /xml.response", "POST /xml.response"],
    bad: () => [
      [{ NAMECHEAP_API_KEY: NC.key }, /namecheap: NAMECHEAP_API_USER: not set/],
      [{ NAMECHEAP_API_USER: NC.user }, /namecheap: NAMECHEAP_API_KEY: not set/],
      [{ NAMECHEAP_API_USER: NC.user, NAMECHEAP_API_KEY: NC.key, NAMECHEAP_SANDBOX: "perhaps" }, /NAMECHEAP_SANDBOX: expected true or false/],
    ],
  },
  {
    code: "inwx",
    zone: "inwx.test",
    start: (store) => startFakeApi(inwxFake({ ...INWX, domains: ["inwx.test"] }), { store }),
    vars: () => ({ INWX_USERNAME: INWX.user, INWX_PASSWORD: INWX.pass }),
    internalEnv: (f) => ({ _ACME_RENEW_TEST_INWX_URL: `${f.url}/jsonrpc/` }),
    secrets: () => [INWX.pass],
    requests: Array(7).fill("POST /jsonrpc/"),
    bad: () => [
      [{ INWX_PASSWORD: INWX.pass }, /inwx: INWX_USERNAME: not set/],
      [{ INWX_USERNAME: INWX.user }, /inwx: INWX_PASSWORD: not set/],
      [{ ...{ INWX_USERNAME: INWX.user, INWX_PASSWORD: INWX.pass }, INWX_SHARED_SECRET: "not base32!" }, /INWX_SHARED_SECRET: not a base32 TOTP secret/],
    ],
  },
  {
    code: "route53",
    zone: "route53.test",
    start: (store) => {
      let url = "";
      return startFakeApi(route53Fake({ ...AWS, zones: { "route53.test": "ZFAKE0123" }, base: () => url }), { store }).then((f) => ((url = f.url), f));
    },
    vars: (f) => ({ AWS_ACCESS_KEY_ID: AWS.keyId, AWS_SECRET_ACCESS_KEY: AWS.secret, AWS_ENDPOINT_URL_ROUTE_53: f.url, AWS_POLLING_INTERVAL: "1", AWS_EC2_METADATA_DISABLED: "true" }),
    secrets: () => [AWS.secret],
    requests: [
      "GET /2013-04-01/hostedzonesbyname",
      "GET /2013-04-01/hostedzone/ZFAKE0123/rrset",
      "POST /2013-04-01/hostedzone/ZFAKE0123/rrset/",
      "GET /2013-04-01/change/C1",
      "GET /2013-04-01/hostedzone/ZFAKE0123/rrset",
      "POST /2013-04-01/hostedzone/ZFAKE0123/rrset/",
      "GET /2013-04-01/change/C2",
    ],
    bad: () => [
      [{ AWS_ACCESS_KEY_ID: AWS.keyId }, /route53: AWS_SECRET_ACCESS_KEY: not set, but AWS_ACCESS_KEY_ID is/],
      [{ AWS_EC2_METADATA_DISABLED: "true", AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials" }, /AWS_SHARED_CREDENTIALS_FILE: cannot read \/nonexistent\/credentials \(ENOENT\)/],
      [{ AWS_EC2_METADATA_DISABLED: "true", HOME: "/nonexistent" }, /route53: no credentials/],
      [{ AWS_ACCESS_KEY_ID: AWS.keyId, AWS_SECRET_ACCESS_KEY: AWS.secret, AWS_PRIVATE_ZONE: "sometimes" }, /AWS_PRIVATE_ZONE: expected true or false/],
    ],
  },
  {
    code: "gcloud",
    zone: "gcloud.test",
    start: (store) => {
      let url = "";
      return startFakeApi(gcloudFake({ email: "acme@proj-1.iam.gserviceaccount.com", publicKey: gcloudKey.publicKey, project: "proj-1", zones: { "gcloud.test.": "zone-g1" }, tokenUrl: () => `${url}/token` }), { store }).then((f) => ((url = f.url), f));
    },
    vars: (f) => ({ GCE_SERVICE_ACCOUNT_FILE: gcloudKeyFile(`${f.url}/token`), GCE_PROJECT: "proj-1" }),
    internalEnv: (f) => ({ _ACME_RENEW_TEST_GCLOUD_URL: `${f.url}/dns/v1` }),
    secrets: () => [String(gcloudKey.privateKey.export({ type: "pkcs8", format: "pem" })).split("\n")[5]!],
    requests: [
      "POST /token",
      "GET /dns/v1/projects/proj-1/managedZones",
      "GET /dns/v1/projects/proj-1/managedZones/zone-g1/rrsets",
      "POST /dns/v1/projects/proj-1/managedZones/zone-g1/changes",
      "GET /dns/v1/projects/proj-1/managedZones/zone-g1/changes/1",
      "GET /dns/v1/projects/proj-1/managedZones/zone-g1/rrsets",
      "POST /dns/v1/projects/proj-1/managedZones/zone-g1/changes",
      "GET /dns/v1/projects/proj-1/managedZones/zone-g1/changes/2",
    ],
    bad: () => [
      [{ GCE_SERVICE_ACCOUNT: "{not json" }, /gcloud: GCE_SERVICE_ACCOUNT: not JSON/],
      [{ GCE_SERVICE_ACCOUNT: JSON.stringify({ type: "authorized_user" }) }, /type is "authorized_user", expected "service_account"/],
      [{ GCE_SERVICE_ACCOUNT_FILE: "/nonexistent/sa.json" }, /GCE_SERVICE_ACCOUNT_FILE .*cannot read \/nonexistent\/sa\.json \(ENOENT\)/],
      [{ GCE_SERVICE_ACCOUNT: JSON.stringify({ type: "service_account", client_email: "a@b", private_key: "nope" }) }, /private_key is not a PEM private key/],
    ],
  },
];
