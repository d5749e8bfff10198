/**
 * deSEC API (https://desec.readthedocs.io/en/latest/dns/domains.html, …/dns/rrsets.html):
 *   GET   /api/v1/domains/?owns_qname={name}             → [{ name, … }] (the domain responsible for a name)
 *   GET   /api/v1/domains/{name}/rrsets/{subname}/{type}/ → { subname, type, ttl, records } or 404
 *   POST  /api/v1/domains/{name}/rrsets/                  { subname, type, ttl, records } → 201
 *   PATCH /api/v1/domains/{name}/rrsets/{subname}/{type}/ { records } → 200, or 204 when records is empty (deleted)
 * "@" stands for the empty subname in URLs. Authentication `Authorization: Token <token>`;
 * errors { detail }. TXT records are quoted; TTL ≥ the domain's minimum (3600 here).
 */
import { jsonBody, refuse, type FakeApi, type FakeRequest, type Handler } from "../fake-api.js";

export function desecFake(o: { token: string; domains: string[] }): Handler {
  const rrsets = new Map<string, { ttl: number; records: string[] }>();
  const fqdn = (domain: string, sub: string) => (sub ? `${sub}.${domain}` : domain);
  const sync = (fake: FakeApi, domain: string, sub: string, records: string[]) => fake.store.set(fqdn(domain, sub), records.map((v) => JSON.parse(v) as string));
  return async (r: FakeRequest, fake: FakeApi) => {
    if (r.headers.authorization !== `Token ${o.token}`) return { status: 401, json: { detail: "Invalid token." } };
    if (r.method === "GET" && r.path === "/api/v1/domains/") {
      const q = r.query.get("owns_qname") ?? refuse(fake, r, "owns_qname missing");
      return { json: o.domains.filter((d) => q === d || q.endsWith(`.${d}`)).map((name) => ({ name, minimum_ttl: 3600 })) };
    }
    let m = /^\/api\/v1\/domains\/([^/]+)\/rrsets\/$/.exec(r.path);
    if (r.method === "POST" && m) {
      const domain = decodeURIComponent(m[1]!);
      if (!o.domains.includes(domain)) return { status: 404, json: { detail: "Not found." } };
      const b = jsonBody<{ subname?: string; type?: string; ttl?: number; records?: string[] }>(r, fake);
      if (typeof b.subname !== "string" || b.type !== "TXT" || !Array.isArray(b.records) || !b.records.length) refuse(fake, r, "subname, type TXT and records are required");
      if (typeof b.ttl !== "number" || b.ttl < 3600) refuse(fake, r, `ttl ${b.ttl} is below the domain's minimum 3600`);
      if (b.records.some((v) => !/^".*"$/.test(v))) refuse(fake, r, "TXT records must be quoted");
      const key = `${domain}|${b.subname}`;
      if (rrsets.has(key)) return { status: 400, json: { non_field_errors: ["Another RRset with the same subdomain and type exists for this domain."] } };
      rrsets.set(key, { ttl: b.ttl, records: b.records });
      await sync(fake, domain, b.subname, b.records);
      return { status: 201, json: { subname: b.subname, type: "TXT", ttl: b.ttl, records: b.records } };
    }
    m = /^\/api\/v1\/domains\/([^/]+)\/rrsets\/([^/]+)\/TXT\/$/.exec(r.path);
    if (m && (r.method === "GET" || r.method === "PATCH")) {
      const domain = decodeURIComponent(m[1]!);
      const sub = decodeURIComponent(m[2]!) === "@" ? "" : decodeURIComponent(m[2]!);
      const key = `${domain}|${sub}`;
      const set = rrsets.get(key);
      if (!set) return { status: 404, json: { detail: "Not found." } };
      if (r.method === "GET") return { json: { subname: sub, type: "TXT", ttl: set.ttl, records: set.records } };
      const b = jsonBody<{ records?: string[] }>(r, fake);
      if (!Array.isArray(b.records)) refuse(fake, r, "records is required");
      if (b.records.some((v) => !/^".*"$/.test(v))) refuse(fake, r, "TXT records must be quoted");
      await sync(fake, domain, sub, b.records);
      if (!b.records.length) {
        rrsets.delete(key);
        return { status: 204, body: "" };
      }
      set.records = b.records;
      return { json: { subname: sub, type: "TXT", ttl: set.ttl, records: set.records } };
    }
    return refuse(fake, r, "no such endpoint", 404);
  };
}
