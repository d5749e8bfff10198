/**
 * CNAME delegation, as lego does it: before the record is set, follow CNAMEs from
 * `_acme-challenge.<domain>` through the recursive resolver; the TXT record goes at the last name
 * (acme-dns style delegations, or a zone that the provider's credentials can write).
 */
import { DnsError } from "./client.js";
import type { Lookup } from "./lookup.js";
import { TYPE, fqdn, nameEq } from "./wire.js";

/** The name the TXT record belongs at, and the chain that led there. At most 50 steps; a loop is an error. */
export async function followCname(lookup: Lookup, name: string): Promise<{ target: string; chain: string[] }> {
  let cur = fqdn(name);
  const chain = [cur];
  for (let i = 0; i < 50; i++) {
    const m = await lookup.ask(cur, TYPE.CNAME);
    if (m.rcode !== 0) break;
    const c = m.answers.find((rr) => rr.type === TYPE.CNAME && nameEq(rr.name, cur) && rr.target);
    if (!c) break;
    const next = fqdn(c.target!);
    if (chain.includes(next)) throw new DnsError("rcode", `CNAME loop: ${[...chain, next].join(" → ")}`);
    chain.push(next);
    cur = next;
  }
  return { target: cur, chain };
}
