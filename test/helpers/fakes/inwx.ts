/**
 * INWX DomRobot JSON-RPC API (https://www.inwx.de/en/help/apidoc): POST /jsonrpc/ { method, params }
 *   account.login { user, pass, lang } → { code: 1000, resData: { tfa } } + a `domrobot` session cookie
 *   account.unlock { tan }, nameserver.createRecord { domain, name, type, content, ttl } → { resData: { id } },
 *   nameserver.info { domain, name, type } → { resData: { record: [...] } }, nameserver.deleteRecord { id },
 *   account.logout → code 1500.
 * Result codes: 1000 ok, 2200 authentication error, 2302 object exists, 2303 object does not exist.
 */
import { randomBytes } from "node:crypto";
import { jsonBody, refuse, type FakeApi, type FakeRequest, type Handler } from "../fake-api.js";

export function inwxFake(o: { user: string; pass: string; domains: string[] }): Handler {
  let seq = 100;
  const sessions = new Set<string>();
  const records = new Map<number, { domain: string; name: string; content: string }>();
  return async (r: FakeRequest, fake: FakeApi) => {
    if (r.method !== "POST" || r.path !== "/jsonrpc/") return refuse(fake, r, "no such endpoint", 404);
    const b = jsonBody<{ method?: string; params?: Record<string, unknown> }>(r, fake);
    const p = b.params ?? {};
    if (b.method === "account.login") {
      if (p.user !== o.user || p.pass !== o.pass) return { json: { code: 2200, msg: "Authentication error" } };
      const s = randomBytes(8).toString("hex");
      sessions.add(s);
      return { json: { code: 1000, msg: "Command completed successfully", resData: { customerId: 1, accountId: 1, tfa: "0" } }, headers: { "set-cookie": `domrobot=${s}; path=/; HttpOnly` } };
    }
    const session = /domrobot=(\w+)/.exec(String(r.headers.cookie ?? ""))?.[1];
    if (!session || !sessions.has(session)) return { json: { code: 2200, msg: "Authentication error", reason: "not logged in" } };
    switch (b.method) {
      case "account.logout":
        sessions.delete(session);
        return { json: { code: 1500, msg: "Command completed successfully; ending session" } };
      case "nameserver.createRecord": {
        if (typeof p.domain !== "string" || !o.domains.includes(p.domain)) return { json: { code: 2303, msg: "Object does not exist" } };
        if (p.type !== "TXT" || typeof p.name !== "string" || typeof p.content !== "string" || typeof p.ttl !== "number") refuse(fake, r, "domain, name, type, content, ttl");
        if (!p.name.endsWith(p.domain)) refuse(fake, r, "name is the full name");
        const id = ++seq;
        records.set(id, { domain: p.domain, name: p.name, content: p.content });
        await fake.store.add(p.name, p.content);
        return { json: { code: 1000, msg: "Command completed successfully", resData: { id } } };
      }
      case "nameserver.info": {
        const list = [...records.entries()].filter(([, x]) => x.domain === p.domain && x.name === p.name).map(([id, x]) => ({ id, name: x.name, type: "TXT", content: x.content, ttl: 300 }));
        return { json: { code: 1000, msg: "Command completed successfully", resData: { roId: 1, domain: p.domain, record: list } } };
      }
      case "nameserver.deleteRecord": {
        const rec = records.get(Number(p.id));
        if (!rec) return { json: { code: 2303, msg: "Object does not exist" } };
        records.delete(Number(p.id));
        await fake.store.remove(rec.name, rec.content);
        return { json: { code: 1000, msg: "Command completed successfully" } };
      }
    }
    return refuse(fake, r, `method ${b.method}`);
  };
}
