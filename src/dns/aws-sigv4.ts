/**
 * AWS Signature Version 4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html):
 * canonical request → string to sign → HMAC-SHA256 chain of date/region/service. ~50 lines of
 * node:crypto instead of the AWS SDK (@aws-sdk/client-route-53 and its @smithy dependencies).
 */
import { createHash, createHmac } from "node:crypto";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

export interface SignInput {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  service: string;
  region: string;
  credentials: AwsCredentials;
  now: Date;
}

const sha256 = (s: string | Buffer) => createHash("sha256").update(s).digest("hex");
const hmac = (key: string | Buffer, s: string) => createHmac("sha256", key).update(s).digest();
/** RFC 3986 encoding as SigV4 wants it (unreserved characters kept, everything else %XX). */
const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), "aws4_request");
}

/** The request's headers with host, x-amz-date, x-amz-security-token and Authorization added. */
export function signV4(i: SignInput): Record<string, string> {
  const u = new URL(i.url);
  const amzDate = i.now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const date = amzDate.slice(0, 8);
  const payloadHash = sha256(i.body);
  const headers: Record<string, string> = { ...i.headers, host: u.host, "x-amz-date": amzDate };
  if (i.credentials.sessionToken) headers["x-amz-security-token"] = i.credentials.sessionToken;
  const lower = Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v.trim().replace(/\s+/g, " ")] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const signedHeaders = lower.map(([k]) => k).join(";");
  const path = u.pathname.split("/").map((seg) => enc(decodeURIComponent(seg))).join("/") || "/";
  const query = [...u.searchParams.entries()].map(([k, v]) => [enc(k), enc(v)] as const).sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join("&");
  const canonical = [i.method, path, query, lower.map(([k, v]) => `${k}:${v}\n`).join(""), signedHeaders, payloadHash].join("\n");
  const scope = `${date}/${i.region}/${i.service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
  const signature = createHmac("sha256", signingKey(i.credentials.secretAccessKey, date, i.region, i.service)).update(toSign).digest("hex");
  return { ...headers, authorization: `AWS4-HMAC-SHA256 Credential=${i.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}` };
}
