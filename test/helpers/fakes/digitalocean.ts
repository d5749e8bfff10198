/**
 * DigitalOcean API v2, domain records (https://docs.digitalocean.com/reference/api/digitalocean/#tag/Domain-Records):
 *   POST   /v2/domains/{domain_name}/records                      { type, name, data, ttl } → 201 { domain_record }
 *   DELETE /v2/domains/{domain_name}/records/{domain_record_id}   → 204
 * Authentication `Authorization: Bearer <token>`; errors { id, message }. `name` is relative ("@" for the apex).
 */
import { jsonBody, refuse, type FakeApi, type FakeRequest, type Handler } from "../fake-api.js";

export function digitaloceanFake(o: { token: string; zones: string[] }): Handler {
  let seq = 1000;
  const records = new Map<number, { zone: string; name: string; data: string }>();
  return async (r: FakeRequest, fake: FakeApi) => {
    if (r.headers.authorization !== `Bearer ${o.token}`) return { status: 401, json: { id: "unauthorized", message: "Unable to authenticate you" } };
    let m = /^\/v2\/domains\/([^/]+)\/records$/.exec(r.path);
    if (r.method === "POST" && m) {
      const zone = decodeURIComponent(m[1]!);
      if (!o.zones.includes(zone)) return { status: 404, json: { id: "not_found", message: "The resource you were accessing could not be found." } };
      const b = jsonBody<{ type?: string; name?: string; data?: string; ttl?: number }>(r, fake);
      if (b.type !== "TXT" || typeof b.name !== "string" || typeof b.data !== "string") refuse(fake, r, "type TXT, name and data are required");
      if (b.name.endsWith(".") || b.name.endsWith(zone)) refuse(fake, r, `name ${b.name} must be relative to the domain`);
      if (typeof b.ttl !== "number" || b.ttl < 30) refuse(fake, r, `ttl ${b.ttl} (minimum 30)`);
      const id = ++seq;
      records.set(id, { zone, name: b.name, data: b.data });
      await fake.store.add(b.name === "@" ? zone : `${b.name}.${zone}`, b.data);
      return { status: 201, json: { domain_record: { id, type: "TXT", name: b.name, data: b.data, priority: null, port: null, ttl: b.ttl, weight: null, flags: null, tag: null } } };
    }
    m = /^\/v2\/domains\/([^/]+)\/records\/(\d+)$/.exec(r.path);
    if (r.method === "DELETE" && m) {
      const rec = records.get(Number(m[2]));
      if (!rec || rec.zone !== decodeURIComponent(m[1]!)) return { status: 404, json: { id: "not_found", message: "The resource you were accessing could not be found." } };
      records.delete(Number(m[2]));
      await fake.store.remove(rec.name === "@" ? rec.zone : `${rec.name}.${rec.zone}`, rec.data);
      return { status: 204, body: "" };
    }
    return refuse(fake, r, "no such endpoint", 404);
  };
}
