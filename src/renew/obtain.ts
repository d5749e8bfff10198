/** The order flow: new order → authorizations → challenges → finalize → download. */
import { allNames, type CertConfig } from "../config/types.js";
import { createCsr } from "../crypto/certs.js";
import type { KeyPair } from "../crypto/keys.js";
import { pemBlocks } from "../inspect/pem.js";
import type { Logger } from "../report/log.js";
import type { Material } from "../store/install.js";
import { AcmeFailure } from "../acme/errors.js";
import type { AcmeSession, Authorization, Challenge } from "../acme/session.js";
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

/**
 * Puts one authorization's answer in place and has the CA validate it. The task goes into `placed`
 * for the caller to clean up once all authorizations are done: the names of a wildcard and its base
 * share one TXT record name, and removing one answer early could fail the other's validation.
 */
async function solveOne(session: AcmeSession, solver: Solver, authz: Authorization, o: ObtainOptions, placed: ChallengeTask[]): Promise<void> {
  const id = authz.identifier.value;
  if (authz.status === "valid") {
    o.log.info("authz-valid", `${id}: already authorized`, { cert: o.config.name });
    return;
  }
  const challenge = authz.challenges.find((c: Challenge) => c.type === solver.type);
  if (!challenge) {
    throw new AcmeFailure("acme", `${id}: the CA offers no ${solver.type} challenge (offers ${authz.challenges.map((c: Challenge) => c.type).join(", ")})`);
  }
  const keyAuthorization = await session.client.getChallengeKeyAuthorization(challenge);
  const task: ChallengeTask = { identifier: id, wildcard: !!authz.wildcard, token: challenge.token, keyAuthorization };
  placed.push(task);
  await solver.prepare(task);
  await session.call(`challenge ${id}`, (c) => c.completeChallenge(challenge));
  o.onStage?.("waiting for validation");
  try {
    await session.call(`validation ${id}`, (c) => c.waitForValidStatus(challenge));
  } catch (e) {
    const f = e as AcmeFailure;
    // A 200 answer carrying status "invalid" is a failed validation, not a protocol error.
    if (f.cls === "acme") throw new AcmeFailure("challenge", `${id}: ${solver.type} validation failed: ${f.message.replace(/^validation [^:]+: /, "")}`, f.extra);
    throw f;
  }
  o.log.info("authz-valid", `${id}: ${solver.type} validated`, { cert: o.config.name });
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
  const newOrder = (replaces: string | undefined) =>
    session.call(
      "newOrder",
      (c) =>
        c.createOrder({
          identifiers: names.map((value) => ({ type: "dns", value })),
          ...(o.config.profile ? { profile: o.config.profile } : {}),
          ...(replaces ? { replaces } : {}),
        } as Parameters<typeof c.createOrder>[0]),
      replaces ? refusesReplaces : undefined,
    );
  let order;
  try {
    order = await newOrder(o.replaces);
  } catch (e) {
    // RFC 9773 §5: a CA may refuse `replaces` (already replaced, not its certificate): order without it.
    if (!o.replaces || !(e instanceof AcmeFailure) || !refusesReplaces(e)) throw e;
    o.log.warn("replaces-refused", `the CA refused replaces=${o.replaces} (${e.message}); ordering without it`, { cert: o.config.name });
    order = await newOrder(undefined);
  }
  o.onOrder?.();
  o.log.info("order", `order created for ${names.join(", ")}`, { cert: o.config.name, url: (order as { url?: string }).url });
  const authzs = await session.call("authorizations", (c) => c.getAuthorizations(order));
  const solver = await solverFor({ config: o.config, log: o.log, signal: o.signal });
  const placed: ChallengeTask[] = [];
  try {
    // allSettled: no authorization is still preparing when the cleanup below runs.
    const results = await Promise.allSettled(authzs.map((a) => solveOne(session, solver, a, o, placed)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  } finally {
    for (const t of placed) await solver.cleanup(t).catch((e) => o.log.warn("challenge-cleanup", `${t.identifier}: cleanup failed: ${(e as Error).message}`, { cert: o.config.name }));
    await solver.close();
  }
  o.onStage?.("finalizing");
  const csr = await createCsr(names, o.key);
  const finalized = await session.call("finalize", (c) => c.finalizeOrder(order, csr));
  const pem = await session.call("download", (c) => c.getCertificate(finalized, o.config.preferredChain ?? undefined));
  const blocks = pemBlocks(pem, "CERTIFICATE");
  if (blocks.length === 0) throw new AcmeFailure("acme", "download: the CA sent no certificate");
  return { keyPem: o.key.pem, certPem: blocks[0]!, chainPem: blocks.slice(1).join("") };
}
