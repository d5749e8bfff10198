/**
 * Google OAuth 2.0 for service accounts (https://developers.google.com/identity/protocols/oauth2/service-account#httprest):
 *   POST /token  grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<RS256 JWT> → { access_token, expires_in }
 * Cloud DNS API v1 (https://cloud.google.com/dns/docs/reference/rest/v1):
 *   GET  /dns/v1/projects/{project}/managedZones?dnsName=                 managedZones.list
 *   GET  /dns/v1/projects/{project}/managedZones/{zone}/rrsets?name=&type= resourceRecordSets.list
 *   POST /dns/v1/projects/{project}/managedZones/{zone}/changes            changes.create { additions, deletions } → { id, status: "pending" }
 *   GET  /dns/v1/projects/{project}/managedZones/{zone}/changes/{id}       changes.get → { status: "done" }
 * The JWT is verified with the service account's public key (iss, scope, aud, iat/exp).
 */
import { createVerify, type KeyObject } from "node:crypto";
import { jsonBody, refuse, type FakeApi, type FakeRequest, type Handler } from "../fake-api.js";

interface Rrset {
  name: string;
  type: string;
  ttl: number;
  rrdatas: string[];
}

export function gcloudFake(o: { email: string; publicKey: KeyObject; project: string; zones: Record<string, string>; tokenUrl: () => string }): Handler {
  const token = "ya29.fake-access-token-0123456789";
  const sets = new Map<string, Rrset>();
  let seq = 0;
  const unauth = { status: 401, json: { error: { code: 401, message: "Request had invalid authentication credentials.", status: "UNAUTHENTICATED" } } };
  return async (r: FakeRequest, fake: FakeApi) => {
    if (r.method === "POST" && r.path === "/token") {
      const f = new URLSearchParams(r.body);
      if (f.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") refuse(fake, r, "grant_type");
      const [h, c, s] = (f.get("assertion") ?? "").split(".");
      if (!h || !c || !s) return { status: 400, json: { error: "invalid_grant", error_description: "Invalid JWT" } };
      const ok = createVerify("RSA-SHA256").update(`${h}.${c}`).verify(o.publicKey, Buffer.from(s, "base64url"));
      const claims = JSON.parse(Buffer.from(c, "base64url").toString()) as { iss?: string; scope?: string; aud?: string; iat?: number; exp?: number };
      const head = JSON.parse(Buffer.from(h, "base64url").toString()) as { alg?: string };
      const now = Date.now() / 1000;
      if (!ok || head.alg !== "RS256" || claims.iss !== o.email || claims.aud !== o.tokenUrl() || !(claims.iat! <= now + 5 && claims.exp! > now && claims.exp! - claims.iat! <= 3600)) return { status: 400, json: { error: "invalid_grant", error_description: "Invalid JWT Signature." } };
      if (claims.scope !== "https://www.googleapis.com/auth/ndev.clouddns.readwrite") refuse(fake, r, `scope ${claims.scope}`);
      return { json: { access_token: token, expires_in: 3599, token_type: "Bearer" } };
    }
    if (r.headers.authorization !== `Bearer ${token}`) return unauth;
    const base = `/dns/v1/projects/${o.project}`;
    if (!r.path.startsWith(`${base}/`)) return { status: 403, json: { error: { code: 403, message: "Forbidden", status: "PERMISSION_DENIED" } } };
    const path = r.path.slice(base.length);
    if (r.method === "GET" && path === "/managedZones") {
      const dnsName = r.query.get("dnsName") ?? "";
      return { json: { managedZones: Object.entries(o.zones).filter(([d]) => d === dnsName).map(([dnsName, name]) => ({ name, dnsName, visibility: "public", kind: "dns#managedZone" })) } };
    }
    let m = /^\/managedZones\/([^/]+)\/rrsets$/.exec(path);
    if (r.method === "GET" && m) {
      if (r.query.get("type") !== "TXT") refuse(fake, r, "type=TXT");
      const s = sets.get(`${m[1]}|${r.query.get("name")}`);
      return { json: { rrsets: s ? [s] : [], kind: "dns#resourceRecordSetsListResponse" } };
    }
    m = /^\/managedZones\/([^/]+)\/changes$/.exec(path);
    if (r.method === "POST" && m) {
      const zone = m[1]!;
      const b = jsonBody<{ additions?: Rrset[]; deletions?: Rrset[] }>(r, fake);
      for (const d of b.deletions ?? []) {
        const cur = sets.get(`${zone}|${d.name}`);
        if (!cur || JSON.stringify(cur.rrdatas) !== JSON.stringify(d.rrdatas) || cur.ttl !== d.ttl) return { status: 412, json: { error: { code: 412, message: "Precondition not met for 'entity.change.deletions[0]'", status: "FAILED_PRECONDITION" } } };
      }
      for (const a of b.additions ?? []) if (a.type !== "TXT" || !a.name.endsWith(".") || a.rrdatas.some((v) => !/^".*"$/.test(v))) refuse(fake, r, "additions: absolute names, quoted TXT data");
      for (const d of b.deletions ?? []) sets.delete(`${zone}|${d.name}`);
      for (const a of b.additions ?? []) {
        if (sets.has(`${zone}|${a.name}`)) return { status: 409, json: { error: { code: 409, message: "The resource already exists", status: "ALREADY_EXISTS" } } };
        sets.set(`${zone}|${a.name}`, a);
      }
      for (const n of new Set([...(b.deletions ?? []), ...(b.additions ?? [])].map((x) => x.name))) await fake.store.set(n, (sets.get(`${zone}|${n}`)?.rrdatas ?? []).map((v) => v.slice(1, -1)));
      return { json: { id: String(++seq), status: "pending", kind: "dns#change" } };
    }
    m = /^\/managedZones\/([^/]+)\/changes\/(\d+)$/.exec(path);
    if (r.method === "GET" && m && Number(m[2]) <= seq) return { json: { id: m[2], status: "done", kind: "dns#change" } };
    return refuse(fake, r, "no such endpoint", 404);
  };
}
