/**
 * One entry per HTTP-API provider for test/e2e/dns-providers.test.ts: how to start its fake, the
 * variables that point the provider at it, the requests one present + cleanup must make, and
 * variables that must be refused.
 */
import { startFakeApi, type FakeApi, type TxtStore } from "../fake-api.js";
import { cloudflareFake } from "./cloudflare.js";

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
];
