/**
 * DuckDNS update API (https://www.duckdns.org/spec.jsp):
 *   GET /update?domains={sub[.duckdns.org]}&token={token}&txt={value}[&clear=true]  → "OK" or "KO"
 * One TXT value per DuckDNS domain, served for every name below it; here it is mirrored at
 * `_acme-challenge.<domain>` (where the test certificates ask for it).
 */
import { refuse, type FakeApi, type FakeRequest, type Handler } from "../fake-api.js";

export function duckdnsFake(o: { token: string; domains: string[] }): Handler {
  return async (r: FakeRequest, fake: FakeApi) => {
    if (r.method !== "GET" || r.path !== "/update") return refuse(fake, r, "no such endpoint", 404);
    const domain = (r.query.get("domains") ?? "").replace(/\.duckdns\.org$/, "");
    if (r.query.get("token") !== o.token || !o.domains.includes(domain)) return { body: "KO" };
    const clear = r.query.get("clear");
    if (clear !== "true" && clear !== "false") refuse(fake, r, `clear=${clear}`);
    const name = `_acme-challenge.${domain}.duckdns.org`;
    await fake.store.set(name, clear === "false" ? [r.query.get("txt") ?? refuse(fake, r, "txt missing")] : []);
    return { body: "OK" };
  };
}
