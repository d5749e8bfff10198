/** The key layout under the cluster prefix (docs/cluster.md, "key layout"). */
import { createHash } from "node:crypto";
import { checkCertName, checkClusterPrefix } from "../config/names.js";
import { ClusterError } from "./errors.js";

export const DEFAULT_PREFIX = "/acme-renew";
const LAYOUT = "v1";

/** Returns null when `p` is a usable prefix (the config validates it with the same check). */
export const checkPrefix = checkClusterPrefix;

export class KeyLayout {
  private readonly base: string;
  constructor(readonly prefix: string = DEFAULT_PREFIX) {
    const bad = checkPrefix(prefix);
    if (bad) throw new ClusterError("config", `cluster prefix "${prefix}": ${bad}`);
    this.base = `${prefix === "/" ? "" : prefix}/${LAYOUT}`;
  }
  private cert(name: string): string {
    const bad = checkCertName(name);
    if (bad) throw new ClusterError("config", `certificate name "${name}": ${bad}`);
    return `${this.base}/certs/${name}`;
  }
  /** Everything of one certificate (one range reads record, state and lock together). */
  certPrefix(name: string): string {
    return `${this.cert(name)}/`;
  }
  record(name: string): string {
    return `${this.cert(name)}/record`;
  }
  state(name: string): string {
    return `${this.cert(name)}/state`;
  }
  lock(name: string): string {
    return `${this.cert(name)}/lock`;
  }
  certsPrefix(): string {
    return `${this.base}/certs/`;
  }
  account(id: string): string {
    if (!/^[0-9a-f]{32}$/.test(id)) throw new ClusterError("config", `account id "${id}" is not 32 hex digits`);
    return `${this.base}/accounts/${id}`;
  }
  http01(token: string): string {
    // RFC 8555 §8.1: base64url characters only.
    if (!/^[A-Za-z0-9_-]{1,256}$/.test(token)) throw new ClusterError("config", "http-01 token has characters outside base64url");
    return `${this.base}/http01/${token}`;
  }
}

/** The id of the ACME account shared by every host using the same server and email. */
export function accountId(server: string, email: string | null): string {
  return createHash("sha256").update(`${server}\n${email ?? ""}`).digest("hex").slice(0, 32);
}
