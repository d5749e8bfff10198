/**
 * The network stage of one renewal: an ACME session, a key, `replaces`, the order flow. It only
 * obtains and verifies a certificate; keeping, installing and recording it is the caller's (src/run/).
 */
import { AcmeSession, sessionFor } from "../acme/session.js";
import { opContext, type OpContext } from "../acme/transport.js";
import { allNames, type CertConfig } from "../config/types.js";
import { generateKeyPair, importKeyPair, type KeyPair } from "../crypto/keys.js";
import type { Logger } from "../report/log.js";
import type { Material } from "../store/install.js";
import { renewalInfoUrl } from "../ari/fetch.js";
import { SECOND } from "../util/time.js";
import { obtain } from "./obtain.js";
import { verifyMaterial } from "./verify.js";

const REQUEST_TIMEOUT_MS = 30 * SECOND;

export interface IssueRequest {
  config: CertConfig;
  stateDir: string;
  log: Logger;
  /** Requests made, transport state; its signal is the overall deadline. */
  ctx: OpContext & { signal: AbortSignal };
  deadlineAt: number;
  /** The preflight found no usable network: network failures are not retried. */
  networkDown: boolean;
  /** The key to keep (reuseKey), or null for a fresh one. */
  reuseKeyPem: string | null;
  /** certID of the certificate this one replaces (ARI), when there is one. */
  replacesCertId: string | null;
  onStage?: (stage: string) => void;
  /** Called once the CA has created the order: from then on a failure has cost it something. */
  onOrder?: () => void;
}

async function chooseKey(c: CertConfig, reusePem: string | null): Promise<KeyPair> {
  if (reusePem !== null) {
    try {
      return await importKeyPair(reusePem, c.keyType);
    } catch {
      /* fall through to a fresh key */
    }
  }
  return generateKeyPair(c.keyType);
}

/** `replaces` only towards a CA that offers ARI. */
async function replacesFor(r: IssueRequest): Promise<string | undefined> {
  if (!r.replacesCertId) return undefined;
  try {
    return (await renewalInfoUrl({ server: r.config.server, caBundle: r.config.caBundle, signal: r.ctx.signal })) ? r.replacesCertId : undefined;
  } catch (e) {
    r.log.debug("replaces", `no replaces: ${(e as Error).message}`);
    return undefined;
  }
}

/** Obtains a certificate and checks it (parses, our key, our names, not expired). Throws AcmeFailure. */
export async function issue(r: IssueRequest): Promise<Material> {
  const c = r.config;
  if (c.ocspMustStaple) r.log.warn("ocsp-must-staple", `${c.file}: ocspMustStaple is set, but Let's Encrypt rejects must-staple requests since 2025: not requested (the certificate has no must-staple extension)`);
  const material = await opContext.run(r.ctx, async () => {
    const session = await AcmeSession.open(
      sessionFor(c, {
        acceptTerms: c.acceptTerms,
        stateDir: r.stateDir,
        log: r.log,
        signal: r.ctx.signal,
        requestTimeoutMs: Math.min(REQUEST_TIMEOUT_MS, Math.max(SECOND, r.deadlineAt - Date.now())),
        deadlineAt: r.deadlineAt,
        networkDown: r.networkDown,
      }),
    );
    const key = await chooseKey(c, r.reuseKeyPem);
    const replaces = await replacesFor(r);
    return obtain(session, {
      config: c,
      key,
      log: r.log,
      signal: r.ctx.signal,
      ...(replaces ? { replaces } : {}),
      ...(r.onStage ? { onStage: r.onStage } : {}),
      ...(r.onOrder ? { onOrder: r.onOrder } : {}),
    });
  });
  verifyMaterial(material, allNames(c), new Date());
  return material;
}
