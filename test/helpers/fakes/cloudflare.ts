/**
 * Cloudflare API v4, the subset lego's provider uses, from Cloudflare's API reference:
 *   GET    /zones?name=&per_page=      https://developers.cloudflare.com/api/resources/zones/methods/list/
 *   POST   /zones/{zone_id}/dns_records https://developers.cloudflare.com/api/resources/dns/subresources/records/methods/create/
 *   DELETE /zones/{zone_id}/dns_records/{dns_record_id}  …/records/methods/delete/
 * Authentication: `Authorization: Bearer <API token>` (or X-Auth-Email + X-Auth-Key); every answer
 * is the v4 envelope { success, errors[], messages[], result }.
 */
import { jsonBody, refuse, type FakeApi, type FakeRequest, type Handler } from "../fake-api.js";

export function cloudflareFake(o: { token: string; zones: Record<string, string> }): Handler {
  let seq = 0;
  const records = new Map<string, { zone: string; name: string; content: string }>();
  const ok = (result: unknown) => ({ json: { success: true, errors: [], messages: [], result } });
  return async (r: FakeRequest, fake: FakeApi) => {
    if (r.headers.authorization !== `Bearer ${o.token}`) return { status: 401, json: { success: false, errors: [{ code: 10000, message: "Authentication error" }], messages: [], result: null } };
    const base = "/client/v4";
    if (!r.path.startsWith(base)) refuse(fake, r, "not under /client/v4", 404);
    const path = r.path.slice(base.length);
    if (r.method === "GET" && path === "/zones") {
      if (r.query.get("per_page") !== "50") refuse(fake, r, "per_page should be 50");
      const name = r.query.get("name") ?? refuse(fake, r, "name is required");
      return ok(o.zones[name] ? [{ id: o.zones[name], name, status: "active" }] : []);
    }
    let m = /^\/zones\/([^/]+)\/dns_records$/.exec(path);
    if (r.method === "POST" && m) {
      const zone = decodeURIComponent(m[1]!);
      if (!Object.values(o.zones).includes(zone)) return { status: 404, json: { success: false, errors: [{ code: 7003, message: "Could not route to /zones/..., perhaps your object identifier is invalid?" }], result: null } };
      const b = jsonBody<{ type?: string; name?: string; content?: string; ttl?: number }>(r, fake);
      if (b.type !== "TXT") refuse(fake, r, `type ${b.type}`);
      if (typeof b.name !== "string" || b.name.endsWith(".")) refuse(fake, r, `name ${b.name} (the API takes the name without the trailing dot)`);
      if (typeof b.content !== "string" || !/^".*"$/.test(b.content)) refuse(fake, r, `content ${b.content} is not a quoted TXT value`);
      if (typeof b.ttl !== "number" || (b.ttl !== 1 && (b.ttl < 60 || b.ttl > 86400))) refuse(fake, r, `ttl ${b.ttl}`);
      const id = `rec-${++seq}`;
      const content = b.content.slice(1, -1);
      records.set(id, { zone, name: b.name, content });
      await fake.store.add(b.name, content);
      return ok({ id, type: "TXT", name: b.name, content: b.content, ttl: b.ttl });
    }
    m = /^\/zones\/([^/]+)\/dns_records\/([^/]+)$/.exec(path);
    if (r.method === "DELETE" && m) {
      const rec = records.get(decodeURIComponent(m[2]!));
      if (!rec || rec.zone !== decodeURIComponent(m[1]!)) return { status: 404, json: { success: false, errors: [{ code: 81044, message: "Record does not exist." }], result: null } };
      records.delete(decodeURIComponent(m[2]!));
      await fake.store.remove(rec.name, rec.content);
      return ok({ id: m[2] });
    }
    return refuse(fake, r, "no such endpoint", 404);
  };
}
