/**
 * OVHcloud API 1.0, DNS zone records (https://eu.api.ovh.com/console/#/domain/zone):
 *   GET    /1.0/auth/time                                → the server's Unix time (unauthenticated)
 *   POST   /1.0/domain/zone/{zoneName}/record            { fieldType, subDomain, target, ttl } → the record (with id)
 *   DELETE /1.0/domain/zone/{zoneName}/record/{id}       → null
 *   POST   /1.0/domain/zone/{zoneName}/refresh           → null
 * Application-key requests carry X-Ovh-Application, X-Ovh-Consumer, X-Ovh-Timestamp and
 * X-Ovh-Signature = "$1$" + hex SHA-1 of "AS+CK+METHOD+URL+BODY+TIMESTAMP"
 * (https://help.ovhcloud.com/csm/en-gb-api-getting-started-ovhcloud-api?id=kb_article_view&sysparm_article=KB0042784).
 * Errors { errorCode, httpCode, message }.
 */
import { createHash } from "node:crypto";
import { jsonBody, refuse, type FakeApi, type FakeRequest, type Handler } from "../fake-api.js";

export function ovhFake(o: { ak: string; as: string; ck: string; zones: string[]; base: () => string }): Handler {
  let seq = 1;
  const records = new Map<number, { zone: string; sub: string; target: string }>();
  return async (r: FakeRequest, fake: FakeApi) => {
    if (r.method === "GET" && r.path === "/1.0/auth/time") return { json: Math.floor(Date.now() / 1000) };
    if (r.headers["x-ovh-application"] !== o.ak) return { status: 403, json: { errorCode: "INVALID_CREDENTIAL", httpCode: "403 Forbidden", message: "This application key is invalid" } };
    if (r.headers["x-ovh-consumer"] !== o.ck) return { status: 403, json: { errorCode: "INVALID_CREDENTIAL", httpCode: "403 Forbidden", message: "This credential is not valid" } };
    const ts = String(r.headers["x-ovh-timestamp"]);
    if (Math.abs(Number(ts) - Date.now() / 1000) > 30) refuse(fake, r, "timestamp off");
    const url = `${o.base().replace(/\/1\.0$/, "")}${r.path}${r.query.size ? `?${r.query}` : ""}`;
    const want = `$1$${createHash("sha1").update(`${o.as}+${o.ck}+${r.method}+${url}+${r.body}+${ts}`).digest("hex")}`;
    if (r.headers["x-ovh-signature"] !== want) return { status: 400, json: { errorCode: "INVALID_SIGNATURE", httpCode: "400 Bad Request", message: "Invalid signature" } };
    let m = /^\/1\.0\/domain\/zone\/([^/]+)\/(record|refresh)$/.exec(r.path);
    if (r.method === "POST" && m) {
      const zone = decodeURIComponent(m[1]!);
      if (!o.zones.includes(zone)) return { status: 404, json: { message: `This service does not exist` } };
      if (m[2] === "refresh") {
        if (r.body !== "") refuse(fake, r, "refresh takes no body");
        return { json: null };
      }
      const b = jsonBody<{ fieldType?: string; subDomain?: string; target?: string; ttl?: number }>(r, fake);
      if (b.fieldType !== "TXT" || typeof b.subDomain !== "string" || typeof b.target !== "string" || typeof b.ttl !== "number") refuse(fake, r, "fieldType, subDomain, target, ttl");
      const id = ++seq;
      records.set(id, { zone, sub: b.subDomain, target: b.target });
      await fake.store.add(b.subDomain ? `${b.subDomain}.${zone}` : zone, b.target);
      return { json: { id, zone, subDomain: b.subDomain, fieldType: "TXT", target: b.target, ttl: b.ttl } };
    }
    m = /^\/1\.0\/domain\/zone\/([^/]+)\/record\/(\d+)$/.exec(r.path);
    if (r.method === "DELETE" && m) {
      const rec = records.get(Number(m[2]));
      if (!rec) return { status: 404, json: { message: "This record does not exist" } };
      records.delete(Number(m[2]));
      await fake.store.remove(rec.sub ? `${rec.sub}.${rec.zone}` : rec.zone, rec.target);
      return { json: null };
    }
    return refuse(fake, r, "no such endpoint", 404);
  };
}
