/**
 * The order flow: new order → authorizations → answers in place → challenges → order ready →
 * finalize → download. The protocol steps (and their recovery from lost answers) are in acme/order.ts;
 * this sequences them with the challenge solver.
 */
import { allNames, type CertConfig } from "../config/types.js";
import { createCsr } from "../crypto/certs.js";
import type { KeyPair } from "../crypto/keys.js";
import { pemBlocks } from "../inspect/pem.js";
import type { Logger } from "../report/log.js";
import type { Material } from "../store/install.js";
import { AcmeFailure } from "../acme/errors.js";
import { authorizations, download, finalize, newOrder, orderFailure, respond, settle, settleAuthorization, type Authorization, type Challenge, type Order } from "../acme/order.js";
import { DEFAULT_RETRY } from "../acme/retry.js";
import type { AcmeSession } from "../acme/session.js";
import { solverFor } from "../challenges/factory.js";
import type { ChallengeTask, Solver } from "../challenges/solver.js";

export interface ObtainOptions {
  config: CertConfig;
  key: KeyPair;
  log: Logger;
  signal: AbortSignal;
  /** ARI certID of the certificate this one replaces. */
  replaces?: string;
  /** Called at each stage, for sd_notify STATUS. */
  onStage?: (stage: string) => void;
  /** Called once the CA has created the order. */
  onOrder?: () => void;
}

interface Pending {
  authz: Authorization;
  challenge: Challenge;
  task: ChallengeTask;
}

/** The challenge of the configured type for each authorization still pending; valid ones need nothing. */
async function pendingChallenges(session: AcmeSession, solver: Solver, authzs: Authorization[], o: ObtainOptions): Promise<Pending[]> {
  const out: Pending[] = [];
  for (const authz of authzs) {
    const id = authz.identifier.value;
    if (authz.status === "valid") {
      o.log.info("authz-valid", `${id}: already authorized`, { cert: o.config.name });
      continue;
    }
    if (authz.status !== "pending") throw new AcmeFailure("acme", `${id}: the authorization is ${authz.status}`);
    const challenge = authz.challenges.find((c) => c.type === solver.type);
    if (!challenge) throw new AcmeFailure("acme", `${id}: the CA offers no ${solver.type} challenge (offers ${authz.challenges.map((c) => c.type).join(", ")})`);
    const keyAuthorization = await session.keyAuthorization(challenge);
    // dns-01 publishes a digest; lego's exec RAW mode passes the key authorization itself (http-01's form).
    const rawKeyAuthorization = challenge.type === "dns-01" ? await session.keyAuthorization({ ...challenge, type: "http-01" }) : keyAuthorization;
    out.push({ authz, challenge, task: { identifier: id, wildcard: !!authz.wildcard, token: challenge.token, keyAuthorization, rawKeyAuthorization } });
  }
  return out;
}

/**
 * Gets every authorization of `order` validated: all answers in place (concurrently: a DNS hook may
 * take a while for each), then each challenge posted, then the order read until it is no longer
 * pending — one poll for all names. Answers are removed only at the end: a wildcard and its base
 * name share one TXT record name, and removing one answer early could fail the other's validation.
 */
async function authorize(session: AcmeSession, order: Order, o: ObtainOptions): Promise<Order> {
  const authzs = await authorizations(session, order);
  const retry = { policy: session.opts.retry ?? DEFAULT_RETRY, deadlineAt: session.opts.deadlineAt, networkDown: !!session.opts.networkDown };
  const solver = await solverFor({ config: o.config, log: o.log, signal: o.signal, retry });
  const placed: ChallengeTask[] = [];
  try {
    const pending = await pendingChallenges(session, solver, authzs, o);
    let last;
    if (await solver.sequential?.()) {
      // A provider holding one value per name (lego's Sequential providers): one authorization at a
      // time, each answer validated and removed before the next is set.
      for (const p of pending) {
        placed.push(p.task);
        await solver.prepare(p.task);
        o.onStage?.("waiting for validation");
        const a = await settleAuthorization(session, p.authz, await respond(session, p.authz, p.challenge));
        placed.pop();
        await solver.cleanup(p.task).catch((e) => o.log.warn("challenge-cleanup", `${p.task.identifier}: cleanup failed: ${(e as Error).message}`, { cert: o.config.name }));
        if (a.status !== "valid") break; // the order is invalid now: orderFailure below says why
      }
    } else {
      // allSettled: no answer is still being put in place when the cleanup below runs.
      const prepared = await Promise.allSettled(
        pending.map((p) => {
          placed.push(p.task);
          return solver.prepare(p.task);
        }),
      );
      const failed = prepared.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) throw failed.reason;
      for (const p of pending) last = await respond(session, p.authz, p.challenge);
      if (pending.length) o.onStage?.("waiting for validation");
    }
    const settled = await settle(session, order, "pending", last);
    if (settled.status === "invalid") throw await orderFailure(session, settled, solver.type);
    if (pending.length) o.log.info("authz-valid", `${pending.map((p) => p.task.identifier).join(", ")}: ${solver.type} validated`, { cert: o.config.name });
    return settled;
  } finally {
    for (const t of placed) await solver.cleanup(t).catch((e) => o.log.warn("challenge-cleanup", `${t.identifier}: cleanup failed: ${(e as Error).message}`, { cert: o.config.name }));
    await solver.close();
  }
}

function der(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, ""), "base64");
}

/**
 * The CA answered a newOrder carrying `replaces` with an error about the replaced certificate:
 * already replaced (409 alreadyReplaced), not a certificate it knows, one issued to another account
 * (Pebble and Boulder: 403 "requester account did not request the certificate being replaced"), or —
 * Pebble 2.6 after a run was killed between finalize and install — 500 "could not find order
 * resulting in the given certificate serial number". `replaces` is only a hint (RFC 9773 §5): such
 * an answer is not retried as is, the order is placed again without it.
 */
export function refusesReplaces(f: AcmeFailure): boolean {
  if (f.extra.status === undefined || f.cls === "badNonce" || f.cls === "rateLimited") return false;
  const type = f.extra.problem?.type ?? "";
  const text = `${f.extra.problem?.detail ?? ""} ${f.message}`;
  return f.extra.status === 409 || type.endsWith(":alreadyReplaced") || /replac|serial number|cert ?id|\bARI\b/i.test(text);
}

export async function obtain(session: AcmeSession, o: ObtainOptions): Promise<Material> {
  const names = allNames(o.config);
  o.onStage?.("ordering");
  const place = (replaces: string | undefined) =>
    newOrder(
      session,
      {
        identifiers: names.map((value) => ({ type: "dns", value })),
        ...(o.config.profile ? { profile: o.config.profile } : {}),
        ...(replaces ? { replaces } : {}),
      },
      replaces ? refusesReplaces : undefined,
    );
  let order: Order;
  try {
    order = await place(o.replaces);
  } catch (e) {
    // RFC 9773 §5: a CA may refuse `replaces` (already replaced, not its certificate): order without it.
    if (!o.replaces || !(e instanceof AcmeFailure) || !refusesReplaces(e)) throw e;
    o.log.warn("replaces-refused", `the CA refused replaces=${o.replaces} (${e.message}); ordering without it`, { cert: o.config.name });
    order = await place(undefined);
  }
  o.onOrder?.();
  o.log.info("order", `order created for ${names.join(", ")}`, { cert: o.config.name, url: order.url });
  // An order whose authorizations are all valid already (reused) is "ready" at once.
  if (order.status === "pending") order = await authorize(session, order, o);
  o.onStage?.("finalizing");
  const csr = der(await createCsr(names, o.key));
  const f = await finalize(session, order, csr);
  order = await settle(session, f.order, "processing", f.reply);
  if (order.status !== "valid") throw new AcmeFailure("acme", `finalize: the order is ${order.status}${order.error?.detail ? `: ${order.error.detail}` : ""}`, order.error ? { problem: order.error } : {});
  const pem = await download(session, order, o.config.preferredChain);
  const blocks = pemBlocks(pem, "CERTIFICATE");
  if (blocks.length === 0) throw new AcmeFailure("acme", "download: the CA sent no certificate");
  return { keyPem: o.key.pem, certPem: blocks[0]!, chainPem: blocks.slice(1).join("") };
}
