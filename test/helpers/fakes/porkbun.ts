/**
 * Porkbun API v3 (https://porkbun.com/api/json/v3/documentation):
 *   POST /api/json/v3/dns/create/{domain}       { secretapikey, apikey, name, type, content, ttl } → { status: "SUCCESS", id }
 *   POST /api/json/v3/dns/delete/{domain}/{id}  { secretapikey, apikey } → { status: "SUCCESS" }
 * The keys are in the body; errors are HTTP 400 { status: "ERROR", message }. `name` is the
 * subdomain ("" for the apex).
 */
import { jsonBody, refuse, type FakeApi, type FakeRequest, type Handler } from "../fake-api.js";

export function porkbunFake(o: { apikey: string; secretapikey: string; domains: string[] }): Handler {
  let seq = 5000;
  const records = new Map<string, { domain: string; name: string; content: string }>();
  return async (r: FakeRequest, fake: FakeApi) => {
    if (r.method !== "POST") refuse(fake, r, "every Porkbun call is a POST", 405);
    const b = jsonBody<{ secretapikey?: string; apikey?: string; name?: string; type?: string; content?: string; ttl?: string }>(r, fake);
    if (b.apikey !== o.apikey || b.secretapikey !== o.secretapikey) return { status: 400, json: { status: "ERROR", message: "Invalid API key. (002)" } };
    let m = /^\/api\/json\/v3\/dns\/create\/([^/]+)$/.exec(r.path);
    if (m) {
      const domain = decodeURIComponent(m[1]!);
      if (!o.domains.includes(domain)) return { status: 400, json: { status: "ERROR", message: "Invalid domain." } };
      if (b.type !== "TXT" || typeof b.name !== "string" || typeof b.content !== "string") refuse(fake, r, "type TXT, name and content are required");
      if (b.name.endsWith(domain)) refuse(fake, r, "name is the subdomain only");
      if (typeof b.ttl !== "string" || !/^\d+$/.test(b.ttl)) refuse(fake, r, `ttl ${b.ttl} must be a string of digits`);
      const id = String(++seq);
      records.set(id, { domain, name: b.name, content: b.content });
      await fake.store.add(b.name ? `${b.name}.${domain}` : domain, b.content);
      return { json: { status: "SUCCESS", id: Number(id) } };
    }
    m = /^\/api\/json\/v3\/dns\/delete\/([^/]+)\/([^/]+)$/.exec(r.path);
    if (m) {
      const rec = records.get(decodeURIComponent(m[2]!));
      if (!rec || rec.domain !== decodeURIComponent(m[1]!)) return { status: 400, json: { status: "ERROR", message: "Invalid record ID." } };
      if (Object.keys(b).some((k) => k !== "apikey" && k !== "secretapikey")) refuse(fake, r, "delete takes only the keys");
      records.delete(decodeURIComponent(m[2]!));
      await fake.store.remove(rec.name ? `${rec.name}.${rec.domain}` : rec.domain, rec.content);
      return { json: { status: "SUCCESS" } };
    }
    return refuse(fake, r, "no such endpoint", 404);
  };
}
