/** tls-alpn-01 (RFC 8737) with our own short-lived TLS listener (listenTLS). */
import { createHash } from "node:crypto";
import { createSecureContext, createServer, type SecureContext } from "node:tls";
import { createCertificate, x509 } from "../crypto/certs.js";
import { generateKeyPair } from "../crypto/keys.js";
import type { ChallengeTask, Solver } from "./solver.js";
import { DAY, MINUTE } from "../util/time.js";
import { ListenerRegistry } from "./listeners.js";

/** id-pe-acmeIdentifier */
const ACME_IDENTIFIER_OID = "1.3.6.1.5.5.7.1.31";

/** The self-signed certificate RFC 8737 §3 asks for: the name as its only SAN, the critical acmeIdentifier extension. */
export async function alpnCertificate(t: ChallengeTask): Promise<{ certPem: string; keyPem: string }> {
  const key = await generateKeyPair("ec256");
  const digest = createHash("sha256").update(t.keyAuthorization).digest();
  // extnValue is the DER encoding of an OCTET STRING holding the 32-byte digest.
  const value = Buffer.concat([Buffer.from([0x04, 0x20]), digest]);
  const now = Date.now();
  const cert = await createCertificate({
    names: [t.identifier],
    key,
    notBefore: new Date(now - MINUTE),
    notAfter: new Date(now + 7 * DAY),
    extraExtensions: [new x509.Extension(ACME_IDENTIFIER_OID, true, value)],
  });
  return { certPem: cert.toString("pem"), keyPem: key.pem };
}

const registry = new ListenerRegistry<SecureContext>(
  (contexts) =>
    createServer({
      ALPNProtocols: ["acme-tls/1"],
      SNICallback: (name, cb) => {
        const ctx = contexts.get(name.toLowerCase());
        if (ctx) cb(null, ctx);
        else cb(new Error(`no tls-alpn-01 challenge for ${name}`));
      },
    }).on("secureConnection", (s) => s.end()),
  "listenTLS",
);

export class TlsAlpnSolver implements Solver {
  readonly type = "tls-alpn-01" as const;
  private readonly lease;
  constructor(host: string, port: number) {
    this.lease = registry.lease(host, port);
  }

  async prepare(t: ChallengeTask): Promise<void> {
    const { certPem, keyPem } = await alpnCertificate(t);
    (await this.lease.tasks()).set(t.identifier, createSecureContext({ cert: certPem, key: keyPem }));
  }

  async cleanup(t: ChallengeTask): Promise<void> {
    await this.lease.delete(t.identifier);
  }

  async close(): Promise<void> {
    await this.lease.release();
  }
}
