/**
 * When there is no usable certificate and none can be had yet (first boot, CA or network down), a
 * self-signed placeholder for the configured names lets dependent services start. It is marked in
 * the certificate itself (src/inspect/placeholder.ts), so the pre-check reports it as "due
 * (placeholder)" with or without state.json. Written only where nothing but a placeholder of ours
 * would be replaced (decide/ready.ts). node:crypto only: `ready` writes it on the boot path.
 */
import type { CertConfig } from "../config/types.js";
import { allNames } from "../config/types.js";
import { selfSigned } from "../crypto/self-signed.js";
import { PLACEHOLDER_ORG } from "../inspect/placeholder.js";
import { install } from "../store/install.js";
import type { CertPaths } from "../store/paths.js";
import { DAY, HOUR } from "../util/time.js";

/** ub-common-name (RFC 5280): a longer domain is named in the SAN only. */
const MAX_CN = 64;

/**
 * Installs a placeholder (caller holds the cert's lock); returns its serial (hex, lower-case) and
 * expiry. Valid from an hour ago for 30 days; with a clock before `clockFloor` (the build time), from
 * that clock until 30 days after the floor, so it is valid both now and once the clock is set right.
 */
export async function installPlaceholder(c: CertConfig, paths: CertPaths, now: Date, o: { clockFloor?: Date | null } = {}): Promise<{ serial: string; notAfter: Date }> {
  const t = now.getTime();
  const floor = o.clockFloor?.getTime() ?? t;
  const notBefore = new Date(Math.min(t, floor) - HOUR);
  const notAfter = new Date(Math.max(t, floor) + 30 * DAY);
  const { certPem, keyPem } = await selfSigned({
    names: allNames(c),
    subject: [
      ["2.5.4.3", c.domain.length <= MAX_CN ? c.domain : "acme-renew placeholder"],
      ["2.5.4.10", PLACEHOLDER_ORG],
    ],
    notBefore,
    notAfter,
  });
  // The chain of a self-signed certificate is itself, so fullchain/chain are never empty.
  await install(paths, { keyPem, certPem, chainPem: certPem }, { keep: c.keepVersions, group: c.group, now });
  const { X509Certificate } = await import("node:crypto");
  return { serial: new X509Certificate(certPem).serialNumber.toLowerCase(), notAfter };
}
