/**
 * The steps of an ACME order (RFC 8555 §7.4–7.5) over an AcmeSession, each with as few requests
 * as the protocol allows, and each non-idempotent POST safe against a lost answer: when none came
 * back (or one that only says "not in that state any more"), the object is read again and the flow
 * continues from its real status instead of sending the same POST blindly.
 */
import { AcmeFailure, classifyProblem, header, isProblem, type Problem } from "./errors.js";
import { alternateLinks, pickChain } from "./chain.js";
import { noAnswer, type AcmeSession, type Reply } from "./session.js";
import { resource } from "./directory.js";

export type Status = "pending" | "ready" | "processing" | "valid" | "invalid" | "expired" | "deactivated" | "revoked";

export interface Identifier {
  type: string;
  value: string;
}

export interface Order {
  url: string;
  status: Status;
  identifiers: Identifier[];
  authorizations: string[];
  finalize: string;
  certificate?: string;
  error?: Problem;
}

export interface Challenge {
  type: string;
  url: string;
  token: string;
  status: Status;
  error?: Problem;
}

export interface Authorization {
  url: string;
  status: Status;
  identifier: Identifier;
  wildcard?: boolean;
  challenges: Challenge[];
}

/** How often a request whose outcome is unknown is checked and, when the CA did not act, sent again. */
const RECOVERIES = 4;

function name(a: Authorization): string {
  return a.wildcard ? `*.${a.identifier.value}` : a.identifier.value;
}

function asOrder(r: Reply<unknown>, url: string): Order {
  const d = r.data as Partial<Order> | null;
  if (!d || typeof d !== "object" || typeof d.status !== "string") throw new AcmeFailure("acme", `order ${url}: the CA's answer is not an order`);
  return { ...(d as Order), url };
}

/** newOrder; the order URL comes from Location. A lost answer leaves an orphan pending order on the CA, which expires. */
export async function newOrder(s: AcmeSession, payload: Record<string, unknown>, final?: (f: AcmeFailure) => boolean): Promise<Order> {
  const r = await s.post("newOrder", resource(s.directory, s.opts.server, "newOrder"), payload, final ? { final } : {});
  const url = header(r.headers, "location");
  if (!url) throw new AcmeFailure("acme", "newOrder: the CA sent no order URL (Location)");
  return asOrder(r, url);
}

export async function getOrder(s: AcmeSession, url: string): Promise<Order> {
  return asOrder(await s.get("order", url), url);
}

/** The order's authorizations, read one after the other (each answer's nonce serves the next). */
export async function authorizations(s: AcmeSession, order: Order): Promise<Authorization[]> {
  const out: Authorization[] = [];
  for (const url of order.authorizations ?? []) {
    const r = await s.get<Authorization>("authorization", url);
    if (!r.data || !Array.isArray(r.data.challenges) || !r.data.identifier) throw new AcmeFailure("acme", `authorization ${url}: the CA's answer is not an authorization`);
    out.push({ ...r.data, url });
  }
  return out;
}

/**
 * Tells the CA to validate `challenge`. Without an answer, or with a 5xx, or "cannot be updated" (a
 * repeated POST after a lost answer: the challenge is already processing), the authorization is read
 * again: a challenge still pending is posted again, any other status means the CA has it.
 */
export async function respond(s: AcmeSession, authz: Authorization, challenge: Challenge): Promise<Reply<unknown> | undefined> {
  const what = `challenge ${name(authz)}`;
  for (let attempt = 0; ; attempt++) {
    let f: AcmeFailure;
    try {
      return await s.send(what, challenge.url, {});
    } catch (e) {
      f = s.classify(what, e);
    }
    if (!(noAnswer(f) || f.cls === "server" || f.cls === "malformed") || attempt + 1 >= RECOVERIES || !(await s.pause(f, attempt))) throw f;
    const now = (await s.get<Authorization>(`authorization ${name(authz)}`, authz.url)).data;
    const c = now.challenges?.find((x) => x.url === challenge.url);
    if (!c || now.status !== "pending" || c.status !== "pending") return undefined; // validating, validated, failed or gone: the order tells
    if (f.cls === "malformed") throw f; // the CA refused a pending challenge: a real error
    s.opts.log.info("challenge-again", `${what}: the CA did not get it (${f.message}); sending it again`);
  }
}

/** Reads the order until it leaves `pending` (validation) or `processing` (issuance). */
export async function settle(s: AcmeSession, order: Order, from: "pending" | "processing", previous?: Reply<unknown>): Promise<Order> {
  if (order.status !== from) return order;
  const r = await s.poll<Order>(from === "pending" ? "validation" : "issuance", order.url, (d) => d?.status !== from, previous, from === "pending" ? undefined : 500);
  return asOrder(r, order.url);
}

/** Reads an authorization until it leaves `pending` (one validation at a time, for sequential DNS providers). */
export async function settleAuthorization(s: AcmeSession, authz: Authorization, previous?: Reply<unknown>): Promise<Authorization> {
  const r = await s.poll<Authorization>(`validation ${name(authz)}`, authz.url, (d) => d?.status !== "pending", previous);
  return { ...r.data, url: authz.url };
}

/** Why an order became invalid: the failed authorizations' challenge errors, one failure naming each. */
export async function orderFailure(s: AcmeSession, order: Order, challengeType: string): Promise<AcmeFailure> {
  const failed: string[] = [];
  let first: { cls: AcmeFailure["cls"]; problem?: Problem } | null = null;
  for (const a of await authorizations(s, order).catch(() => [] as Authorization[])) {
    if (a.status === "valid" || a.status === "pending") continue;
    const c = a.challenges.find((x) => x.error) ?? a.challenges.find((x) => x.type === challengeType);
    const p = c?.error;
    const cls = validationClass(p);
    first ??= { cls, ...(p ? { problem: p } : {}) };
    failed.push(`${name(a)}: ${c?.type ?? challengeType} validation failed: ${p?.detail ?? `authorization ${a.status}`}${p?.type ? ` [${p.type}]` : ""}`);
  }
  if (first) return new AcmeFailure(first.cls, failed.join("; "), first.problem ? { problem: first.problem } : {});
  const p = order.error;
  return new AcmeFailure(p ? classifyProblem(p.status ?? 400, p) : "acme", `order ${order.status}: ${p?.detail ?? "the CA gave no reason"}`, p ? { problem: p } : {});
}

/** A failed validation is class challenge, unless the CA names something no retry of the challenge fixes. */
function validationClass(p: Problem | undefined): AcmeFailure["cls"] {
  const c = classifyProblem(p?.status ?? 400, p);
  return c === "caa" || c === "rejectedIdentifier" || c === "rateLimited" ? c : "challenge";
}

/**
 * Sends the CSR. Without an answer, with a 5xx, or with orderNotReady (what a repeated finalize
 * gets once the first one went through), the order is read again and the flow goes on from its real
 * status: still ready → the CA did not take the CSR, send it again; processing or valid → wait and
 * download. Never "unauthorized" for a certificate the CA is issuing.
 */
export async function finalize(s: AcmeSession, order: Order, csrDer: Buffer): Promise<{ order: Order; reply?: Reply<unknown> }> {
  let current = order;
  for (let attempt = 0; ; attempt++) {
    if (current.status !== "ready") return { order: current };
    let f: AcmeFailure;
    try {
      const r = await s.send("finalize", current.finalize, { csr: csrDer.toString("base64url") });
      return { order: asOrder(r, order.url), reply: r };
    } catch (e) {
      f = s.classify("finalize", e);
    }
    if (!(noAnswer(f) || f.cls === "server" || isProblem(f, "orderNotReady")) || attempt + 1 >= RECOVERIES || !(await s.pause(f, attempt))) throw f;
    s.opts.log.warn("finalize-unknown", `${f.message}; reading the order instead of sending the CSR again`);
    current = await getOrder(s, order.url);
    if (current.status === "invalid") throw new AcmeFailure("acme", `finalize: the order became invalid: ${current.error?.detail ?? "the CA gave no reason"}`, current.error ? { problem: current.error } : {});
    if (current.status === "pending") throw f;
  }
}

/** Downloads the certificate chain (POST-as-GET), the preferred alternate chain when one is named. */
export async function download(s: AcmeSession, order: Order, preferredChain: string | null): Promise<string> {
  if (!order.certificate) throw new AcmeFailure("acme", "download: the valid order has no certificate URL");
  const r = await s.get<string>("download", order.certificate);
  const text = typeof r.data === "string" ? r.data : String(r.data);
  if (!preferredChain) return text;
  const alternates = alternateLinks(header(r.headers, "link"));
  if (alternates.length === 0) return text;
  const others: string[] = [];
  for (const url of alternates) others.push(String((await s.get<string>("download alternate", url)).data));
  return pickChain([text, ...others], preferredChain);
}
