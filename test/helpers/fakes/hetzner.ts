/**
 * Hetzner Cloud API, DNS RRset actions (https://docs.hetzner.cloud/reference/cloud#zone-rrset-actions):
 *   POST /v1/zones/{id_or_name}/rrsets/{rr_name}/{rr_type}/actions/add_records    { ttl, records: [{ value }] }
 *   POST /v1/zones/{id_or_name}/rrsets/{rr_name}/{rr_type}/actions/remove_records { records: [{ value }] }
 *   GET  /v1/actions/{id}  (https://docs.hetzner.cloud/reference/cloud#actions-get-an-action)
 * Authentication `Authorization: Bearer <token>`; errors { error: { code, message } }. Actions are
 * answered "running" first and "success" when read, as the API does for asynchronous changes.
 */
import { jsonBody, refuse, type FakeApi, type FakeRequest, type Handler } from "../fake-api.js";

export function hetznerFake(o: { token: string; zones: string[] }): Handler {
  let seq = 0;
  const actions = new Map<number, number>();
  return async (r: FakeRequest, fake: FakeApi) => {
    if (r.headers.authorization !== `Bearer ${o.token}`) return { status: 401, json: { error: { code: "unauthorized", message: "unable to authenticate" } } };
    const m = /^\/v1\/zones\/([^/]+)\/rrsets\/([^/]+)\/TXT\/actions\/(add_records|remove_records)$/.exec(r.path);
    if (r.method === "POST" && m) {
      const zone = decodeURIComponent(m[1]!);
      const name = decodeURIComponent(m[2]!);
      if (!o.zones.includes(zone)) return { status: 404, json: { error: { code: "not_found", message: "zone not found" } } };
      const b = jsonBody<{ ttl?: number; records?: Array<{ value?: string }> }>(r, fake);
      if (!Array.isArray(b.records) || b.records.length !== 1 || typeof b.records[0]!.value !== "string") refuse(fake, r, "records must be [{ value }]");
      const value = b.records[0]!.value!;
      if (!/^".*"$/.test(value)) refuse(fake, r, `TXT value ${value} is not quoted`);
      if (m[3] === "add_records" && (typeof b.ttl !== "number" || b.ttl < 60)) refuse(fake, r, `ttl ${b.ttl}`);
      if (m[3] === "remove_records" && b.ttl !== undefined) refuse(fake, r, "remove_records takes no ttl");
      const fqdn = name === "@" ? zone : `${name}.${zone}`;
      if (m[3] === "add_records") await fake.store.add(fqdn, value.slice(1, -1));
      else await fake.store.remove(fqdn, value.slice(1, -1));
      const id = ++seq;
      actions.set(id, 0);
      return { status: 201, json: { action: { id, command: m[3] === "add_records" ? "add_rrset_records" : "remove_rrset_records", status: "running", progress: 0, error: null } } };
    }
    const a = /^\/v1\/actions\/(\d+)$/.exec(r.path);
    if (r.method === "GET" && a && actions.has(Number(a[1]))) return { json: { action: { id: Number(a[1]), status: "success", progress: 100, error: null } } };
    return refuse(fake, r, "no such endpoint", 404);
  };
}
