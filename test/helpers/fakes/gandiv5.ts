/**
 * Gandi LiveDNS API v5 (https://api.gandi.net/docs/livedns/):
 *   GET    /v5/livedns/domains/{fqdn}/records/{rrset_name}/{rrset_type}  → { rrset_name, rrset_type, rrset_ttl, rrset_values } or 404
 *   PUT    …same…  { rrset_ttl, rrset_values } → 201 { message }
 *   DELETE …same…  → 204
 * Authentication `Authorization: Bearer <personal access token>` (or the deprecated `Apikey <key>`);
 * errors { code, message, cause, object }; rrset_ttl ≥ 300.
 */
import { jsonBody, refuse, type FakeApi, type FakeRequest, type Handler } from "../fake-api.js";

export function gandiFake(o: { pat: string; domains: string[] }): Handler {
  const rrsets = new Map<string, { ttl: number; values: string[] }>();
  const fqdn = (d: string, n: string) => (n === "@" ? d : `${n}.${d}`);
  return async (r: FakeRequest, fake: FakeApi) => {
    if (r.headers.authorization !== `Bearer ${o.pat}`) return { status: 401, json: { code: 401, message: "The server could not verify that you authorized to access the document you requested.", object: "HTTPUnauthorized", cause: "Unauthorized" } };
    const m = /^\/v5\/livedns\/domains\/([^/]+)\/records\/([^/]+)\/TXT$/.exec(r.path);
    if (!m) return refuse(fake, r, "no such endpoint", 404);
    const domain = decodeURIComponent(m[1]!);
    const name = decodeURIComponent(m[2]!);
    if (!o.domains.includes(domain)) return { status: 404, json: { code: 404, message: "The resource could not be found.", object: "HTTPNotFound", cause: "Not Found" } };
    const key = `${domain}|${name}`;
    const set = rrsets.get(key);
    const notFound = { status: 404, json: { code: 404, message: `Can't find the DNS record ${name}/TXT in the zone`, object: "dns-record", cause: "Not Found" } };
    if (r.method === "GET") return set ? { json: { rrset_name: name, rrset_type: "TXT", rrset_ttl: set.ttl, rrset_values: set.values } } : notFound;
    if (r.method === "PUT") {
      const b = jsonBody<{ rrset_ttl?: number; rrset_values?: string[] }>(r, fake);
      if (typeof b.rrset_ttl !== "number" || b.rrset_ttl < 300) refuse(fake, r, `rrset_ttl ${b.rrset_ttl} (minimum 300)`);
      if (!Array.isArray(b.rrset_values) || !b.rrset_values.length) refuse(fake, r, "rrset_values must be a non-empty list");
      await fake.store.set(fqdn(domain, name), b.rrset_values.map((v) => v.replace(/^"(.*)"$/, "$1")));
      rrsets.set(key, { ttl: b.rrset_ttl, values: b.rrset_values });
      return { status: 201, json: { message: "DNS Record Created" } };
    }
    if (r.method === "DELETE") {
      if (!set) return notFound;
      rrsets.delete(key);
      await fake.store.remove(fqdn(domain, name));
      return { status: 204, body: "" };
    }
    return refuse(fake, r, "method not allowed", 405);
  };
}
