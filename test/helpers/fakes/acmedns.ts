/**
 * acme-dns (https://github.com/joohoi/acme-dns#api):
 *   POST /register  [{ allowfrom: [...] }] → 201 { username, password, fulldomain, subdomain, allowfrom }
 *   POST /update    X-Api-User, X-Api-Key; { subdomain, txt } (txt: 43 characters) → 200 { txt }
 * Errors: 401 { error: "forbidden" }, 400 { error: "bad_txt" | "bad_subdomain" }. The TXT record is
 * served at the account's fulldomain (the server keeps the last two values).
 */
import { randomBytes } from "node:crypto";
import { jsonBody, refuse, type FakeApi, type FakeRequest, type Handler } from "../fake-api.js";

export interface AcmeDnsAccount {
  username: string;
  password: string;
  fulldomain: string;
  subdomain: string;
}

export function acmednsFake(o: { accounts: AcmeDnsAccount[]; authZone: string }): Handler {
  const values = new Map<string, string[]>();
  return async (r: FakeRequest, fake: FakeApi) => {
    if (r.method === "POST" && r.path === "/register") {
      const b = r.body ? jsonBody<{ allowfrom?: string[] }>(r, fake) : {};
      if (b.allowfrom !== undefined && !Array.isArray(b.allowfrom)) refuse(fake, r, "allowfrom must be a list");
      const sub = randomBytes(8).toString("hex");
      const a = { username: randomBytes(8).toString("hex"), password: randomBytes(20).toString("base64url"), fulldomain: `${sub}.${o.authZone}`, subdomain: sub, allowfrom: b.allowfrom ?? [] };
      o.accounts.push(a);
      return { status: 201, json: a };
    }
    if (r.method === "POST" && r.path === "/update") {
      const a = o.accounts.find((x) => x.username === r.headers["x-api-user"] && x.password === r.headers["x-api-key"]);
      if (!a) return { status: 401, json: { error: "forbidden" } };
      const b = jsonBody<{ subdomain?: string; txt?: string }>(r, fake);
      if (b.subdomain !== a.subdomain) return { status: 401, json: { error: "forbidden" } };
      if (typeof b.txt !== "string" || b.txt.length !== 43) return { status: 400, json: { error: "bad_txt" } };
      const kept = [...(values.get(a.fulldomain) ?? []), b.txt].slice(-2);
      values.set(a.fulldomain, kept);
      await fake.store.set(a.fulldomain, kept);
      return { json: { txt: b.txt } };
    }
    return refuse(fake, r, "no such endpoint", 404);
  };
}
