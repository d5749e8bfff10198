/**
 * One entry per HTTP-API provider for test/e2e/dns-providers.test.ts: how to start its fake, the
 * variables that point the provider at it, the requests one present + cleanup must make, and
 * variables that must be refused.
 */
import { startFakeApi, type FakeApi, type TxtStore } from "../fake-api.js";
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
];
