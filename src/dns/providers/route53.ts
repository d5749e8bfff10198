/**
 * route53: Amazon Route 53's REST API (XML, SigV4-signed by ../aws-sigv4.ts): the hosted zone
 * (AWS_HOSTED_ZONE_ID, else ListHostedZonesByName for the zone found in DNS, public unless
 * AWS_PRIVATE_ZONE), ListResourceRecordSets, ChangeResourceRecordSets (UPSERT of the TXT set with the
 * value added; DELETE/UPSERT without it), then GetChange until INSYNC (AWS_WAIT_FOR_RECORD_SETS_CHANGED).
 * Credentials as the AWS SDK finds them for lego: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY
 * (+AWS_SESSION_TOKEN), the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE), the
 * EC2 instance metadata service (IMDSv2), and AWS_ASSUME_ROLE_ARN (+AWS_EXTERNAL_ID) through STS.
 * Endpoints: the SDK's AWS_ENDPOINT_URL_ROUTE_53 / AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL /
 * AWS_EC2_METADATA_SERVICE_ENDPOINT. API: https://docs.aws.amazon.com/Route53/latest/APIReference/
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ConfigError } from "../../config/errors.js";
import { signV4, type AwsCredentials } from "../aws-sigv4.js";
import type { ProviderEnv } from "../env.js";
import { providerFailure } from "../errors.js";
import type { HttpResponse } from "../http.js";
import { defineProvider, Serial, type DnsProvider, type ProviderContext, type TxtRecord } from "../provider.js";
import { timing, timingVariables } from "../timing.js";
import { fqdn } from "../wire.js";
import { elements, escapeXml, text } from "../xml.js";

const P = "AWS_";
const DEFAULTS = { propagationTimeout: 120, pollingInterval: 4, ttl: 10 };
const NS = "https://route53.amazonaws.com/doc/2013-04-01/";

interface Config {
  /** Static credentials from the environment or the shared credentials file; null: instance metadata. */
  credentials: AwsCredentials | null;
  credentialsFrom: string;
  assumeRole: { arn: string; externalId: string | null } | null;
  endpoint: string;
  region: string;
  stsEndpoint: string;
  imds: string | null;
  hostedZoneId: string | null;
  privateZone: boolean;
  wait: boolean;
  ttl: number;
  pollMs: number;
  waitMs: number;
}

/** The [profile] section of an AWS INI file. */
function iniSection(textIn: string, section: string): Record<string, string> | null {
  let cur: string | null = null;
  let out: Record<string, string> | null = null;
  for (const raw of textIn.split("\n")) {
    const line = raw.replace(/[#;].*$/, "").trim();
    const h = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (h) {
      cur = h[1]!.replace(/^profile\s+/, "");
      if (cur === section) out ??= {};
      continue;
    }
    const kv = /^([\w.-]+)\s*=\s*(.*)$/.exec(line);
    if (kv && cur === section && out) out[kv[1]!.toLowerCase()] = kv[2]!.trim();
  }
  return out;
}

function configure(env: ProviderEnv) {
  const bad = (why: string): never => {
    throw new ConfigError(env.file, "dnsProvider", `${env.code}: ${why}`);
  };
  const id = env.get(`${P}ACCESS_KEY_ID`);
  const secret = env.get(`${P}SECRET_ACCESS_KEY`);
  const token = env.get(`${P}SESSION_TOKEN`);
  if (!!id !== !!secret) bad(`${id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID"}: not set, but ${id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY"} is (they go together)`);
  if (token && !id) bad("AWS_SESSION_TOKEN is set without AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  let credentials: AwsCredentials | null = id && secret ? { accessKeyId: id, secretAccessKey: secret, sessionToken: token } : null;
  let credentialsFrom = "AWS_ACCESS_KEY_ID";
  if (!credentials) {
    const profile = env.get(`${P}PROFILE`) ?? "default";
    const file = env.get(`${P}SHARED_CREDENTIALS_FILE`) ?? join(env.get("HOME") ?? homedir(), ".aws", "credentials");
    let content: string | null = null;
    try {
      content = readFileSync(file, "utf8");
    } catch (e) {
      if (env.get(`${P}SHARED_CREDENTIALS_FILE`) || env.get(`${P}PROFILE`)) bad(`${env.get(`${P}SHARED_CREDENTIALS_FILE`) ? "AWS_SHARED_CREDENTIALS_FILE" : "AWS_PROFILE"}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    if (content !== null) {
      const s = iniSection(content, profile);
      if (s?.aws_access_key_id && s.aws_secret_access_key) {
        credentials = { accessKeyId: s.aws_access_key_id, secretAccessKey: s.aws_secret_access_key, sessionToken: s.aws_session_token };
        credentialsFrom = `${file} [${profile}]`;
      } else if (env.get(`${P}PROFILE`)) bad(`AWS_PROFILE: ${file} has no profile "${profile}" with aws_access_key_id and aws_secret_access_key`);
    }
  }
  const disabled = /^true$/i.test(env.get(`${P}EC2_METADATA_DISABLED`) ?? "");
  if (!credentials && disabled) bad("no credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set, there is no shared credentials file, and AWS_EC2_METADATA_DISABLED turns off the instance metadata service");
  const region = env.get(`${P}REGION`) ?? "us-east-1";
  const china = region.startsWith("cn-");
  const endpoint = (env.get(`${P}ENDPOINT_URL_ROUTE_53`) ?? env.get(`${P}ENDPOINT_URL`) ?? (china ? "https://route53.amazonaws.com.cn" : "https://route53.amazonaws.com")).replace(/\/+$/, "");
  const stsEndpoint = (env.get(`${P}ENDPOINT_URL_STS`) ?? env.get(`${P}ENDPOINT_URL`) ?? (china ? `https://sts.${region}.amazonaws.com.cn` : "https://sts.amazonaws.com")).replace(/\/+$/, "");
  for (const [name, u] of [["AWS_ENDPOINT_URL_ROUTE_53", endpoint], ["AWS_ENDPOINT_URL_STS", stsEndpoint]] as const) {
    try {
      new URL(u);
    } catch {
      bad(`${name}: "${u}" is not a URL`);
    }
  }
  const arn = env.get(`${P}ASSUME_ROLE_ARN`);
  const t = timing(env, P, DEFAULTS);
  return {
    config: {
      credentials,
      credentialsFrom,
      assumeRole: arn ? { arn, externalId: env.get(`${P}EXTERNAL_ID`) ?? null } : null,
      endpoint,
      region: china ? "cn-northwest-1" : "us-east-1",
      stsEndpoint,
      imds: disabled ? null : (env.get(`${P}EC2_METADATA_SERVICE_ENDPOINT`) ?? "http://169.254.169.254").replace(/\/+$/, ""),
      hostedZoneId: env.get(`${P}HOSTED_ZONE_ID`)?.replace(/^\/hostedzone\//, "") ?? null,
      privateZone: env.bool(`${P}PRIVATE_ZONE`, false),
      wait: env.bool(`${P}WAIT_FOR_RECORD_SETS_CHANGED`, true),
      ttl: t.ttl,
      pollMs: t.pollingInterval * 1000,
      waitMs: t.propagationTimeout * 1000,
    },
    timing: t,
  };
}

const errorText = (body: string) => {
  const code = text(body, "Code");
  const msg = text(body, "Message");
  return code || msg ? `${code ?? ""}: ${msg ?? ""}` : undefined;
};
/** AWS's throttling answers are 400s: retried like a 5xx. */
const problem = (res: HttpResponse) => (/<Code>(Throttling|PriorRequestNotComplete|RequestExpired)<\/Code>/.test(res.body) ? "rate-limited" : undefined);

class Route53 implements DnsProvider {
  private creds: Promise<AwsCredentials> | null = null;
  private readonly zones = new Map<string, Promise<string>>();
  private readonly serial = new Serial();

  constructor(
    private readonly c: Config,
    private readonly ctx: ProviderContext,
  ) {}

  /** IMDSv2: a session token, the instance role's name, its credentials. */
  private async fromInstance(): Promise<AwsCredentials> {
    const base = this.c.imds!;
    const none = "no credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set, there is no shared credentials file, and the instance metadata service";
    try {
      const tok = await this.ctx.http.request("PUT", `${base}/latest/api/token`, { what: "instance metadata token", headers: { "x-aws-ec2-metadata-token-ttl-seconds": "21600" } });
      const h = { "x-aws-ec2-metadata-token": tok.body.trim() };
      const role = (await this.ctx.http.request("GET", `${base}/latest/meta-data/iam/security-credentials/`, { what: "instance role", headers: h })).body.trim().split("\n")[0];
      if (!role) throw providerFailure("route53", "auth", `${none} has no IAM role for this instance`);
      const j = JSON.parse((await this.ctx.http.request("GET", `${base}/latest/meta-data/iam/security-credentials/${encodeURIComponent(role)}`, { what: "instance role credentials", headers: h })).body) as { AccessKeyId?: string; SecretAccessKey?: string; Token?: string };
      if (!j.AccessKeyId || !j.SecretAccessKey) throw providerFailure("route53", "bad-answer", "the instance metadata service gave no credentials");
      return { accessKeyId: j.AccessKeyId, secretAccessKey: j.SecretAccessKey, sessionToken: j.Token };
    } catch (e) {
      if (e instanceof Error && /^dns provider route53: no credentials|instance metadata service gave/.test(e.message)) throw e;
      throw providerFailure("route53", "auth", `${none} did not answer (${(e as Error).message.replace(/^dns provider route53: /, "")})`);
    }
  }

  private async assume(base: AwsCredentials, role: { arn: string; externalId: string | null }): Promise<AwsCredentials> {
    const form = new URLSearchParams({ Action: "AssumeRole", Version: "2011-06-15", RoleArn: role.arn, RoleSessionName: `acme-renew-${randomBytes(4).toString("hex")}`, ...(role.externalId ? { ExternalId: role.externalId } : {}) }).toString();
    const url = `${this.c.stsEndpoint}/`;
    const headers = signV4({ method: "POST", url, headers: { "content-type": "application/x-www-form-urlencoded" }, body: form, service: "sts", region: this.c.stsEndpoint.includes(".amazonaws.com.cn") ? "cn-northwest-1" : "us-east-1", credentials: base, now: new Date() });
    const r = { what: `assume role ${role.arn}`, errorText, problem, headers, body: form };
    const res = await this.ctx.http.request("POST", url, r);
    const cr = elements(res.body, "Credentials")[0];
    const id = cr && text(cr, "AccessKeyId");
    const secret = cr && text(cr, "SecretAccessKey");
    if (!id || !secret) throw this.ctx.http.garbage("POST", url, r, res.status, "no Credentials");
    return { accessKeyId: id, secretAccessKey: secret, sessionToken: text(cr, "SessionToken") };
  }

  private credentials(): Promise<AwsCredentials> {
    this.creds ??= (async () => {
      const base = this.c.credentials ?? (await this.fromInstance());
      return this.c.assumeRole ? this.assume(base, this.c.assumeRole) : base;
    })();
    this.creds.catch(() => (this.creds = null));
    return this.creds;
  }

  private async call(method: string, path: string, what: string, body = ""): Promise<string> {
    const url = `${this.c.endpoint}${path}`;
    const headers = signV4({ method, url, headers: body ? { "content-type": "text/xml" } : {}, body, service: "route53", region: this.c.region, credentials: await this.credentials(), now: new Date() });
    const res = await this.ctx.http.request(method, url, { what, errorText, problem, headers: { ...headers, accept: "text/xml" }, ...(body ? { body } : {}) });
    if (!/^\s*(<\?xml[^>]*>\s*)?<\w+/.test(res.body)) throw this.ctx.http.garbage(method, url, { what }, res.status, "not XML");
    return res.body;
  }

  private hostedZone(name: string): Promise<string> {
    if (this.c.hostedZoneId) return Promise.resolve(this.c.hostedZoneId);
    let p = this.zones.get(name);
    if (!p) {
      p = (async () => {
        const zone = (await this.ctx.findZone(name)).name;
        const xml = await this.call("GET", `/2013-04-01/hostedzonesbyname?dnsname=${encodeURIComponent(zone.replace(/\.$/, ""))}`, `find the hosted zone of ${zone}`);
        for (const hz of elements(xml, "HostedZone")) {
          const private_ = text(hz, "PrivateZone") === "true";
          if (fqdn(text(hz, "Name") ?? "") === zone && private_ === this.c.privateZone) return (text(hz, "Id") ?? "").replace(/^\/hostedzone\//, "");
        }
        throw providerFailure("route53", "not-found", `no ${this.c.privateZone ? "private" : "public"} hosted zone ${zone} in this account (AWS_HOSTED_ZONE_ID sets one explicitly)`);
      })();
      this.zones.set(name, p);
      p.catch(() => this.zones.delete(name));
    }
    return p;
  }

  private async values(zoneId: string, name: string): Promise<{ values: string[]; ttl: number | null }> {
    const xml = await this.call("GET", `/2013-04-01/hostedzone/${encodeURIComponent(zoneId)}/rrset?name=${encodeURIComponent(name)}&type=TXT&maxitems=1`, `read TXT ${name}`);
    for (const set of elements(xml, "ResourceRecordSet")) {
      if (fqdn(text(set, "Name") ?? "") === fqdn(name) && text(set, "Type") === "TXT") return { values: elements(set, "Value").map((v) => text(`<V>${v}</V>`, "V")!), ttl: Number(text(set, "TTL")) || null };
    }
    return { values: [], ttl: null };
  }

  private async change(zoneId: string, name: string, action: "UPSERT" | "DELETE", values: string[], ttl: number): Promise<void> {
    const records = values.map((v) => `<ResourceRecord><Value>${escapeXml(v)}</Value></ResourceRecord>`).join("");
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<ChangeResourceRecordSetsRequest xmlns="${NS}"><ChangeBatch><Comment>acme-renew dns-01</Comment><Changes><Change><Action>${action}</Action><ResourceRecordSet><Name>${escapeXml(name)}</Name><Type>TXT</Type><TTL>${ttl}</TTL><ResourceRecords>${records}</ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`;
    const xml = await this.call("POST", `/2013-04-01/hostedzone/${encodeURIComponent(zoneId)}/rrset/`, `${action === "UPSERT" ? "set" : "delete"} TXT ${name}`, body);
    const changeId = text(xml, "Id")?.replace(/^\/change\//, "");
    if (!changeId) throw providerFailure("route53", "bad-answer", `${action} TXT ${name}: no ChangeInfo in the answer`);
    if (!this.c.wait) return;
    const deadline = Date.now() + this.c.waitMs;
    for (let status = text(xml, "Status"); status !== "INSYNC"; ) {
      if (Date.now() > deadline) throw providerFailure("route53", "timeout", `change ${changeId} of ${name} not INSYNC after ${this.c.waitMs / 1000}s`);
      await sleep(Math.min(this.c.pollMs, 2000), undefined, { signal: this.ctx.signal }).catch(() => {});
      status = text(await this.call("GET", `/2013-04-01/change/${encodeURIComponent(changeId)}`, `status of change ${changeId}`), "Status");
    }
  }

  async present(r: TxtRecord): Promise<void> {
    const zoneId = await this.hostedZone(r.fqdn);
    const quoted = JSON.stringify(r.value);
    await this.serial.run(r.fqdn, async () => {
      const cur = await this.values(zoneId, r.fqdn);
      if (cur.values.includes(quoted)) return;
      await this.change(zoneId, r.fqdn, "UPSERT", [...cur.values, quoted], this.c.ttl);
    });
  }

  async cleanup(r: TxtRecord): Promise<void> {
    const zoneId = await this.hostedZone(r.fqdn);
    const quoted = JSON.stringify(r.value);
    await this.serial.run(r.fqdn, async () => {
      const cur = await this.values(zoneId, r.fqdn);
      if (!cur.values.includes(quoted)) return;
      const rest = cur.values.filter((v) => v !== quoted);
      // DELETE must name the record set exactly as it is (its TTL and every value).
      if (rest.length) await this.change(zoneId, r.fqdn, "UPSERT", rest, cur.ttl ?? this.c.ttl);
      else await this.change(zoneId, r.fqdn, "DELETE", cur.values, cur.ttl ?? this.c.ttl);
    });
  }
}

export const definition = defineProvider<Config>({
  code: "route53",
  required: ["AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (or a shared credentials file / AWS_PROFILE, or an EC2 instance role)"],
  optional: ["AWS_SESSION_TOKEN", "AWS_REGION", "AWS_HOSTED_ZONE_ID", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ASSUME_ROLE_ARN", "AWS_EXTERNAL_ID", "AWS_PRIVATE_ZONE", "AWS_WAIT_FOR_RECORD_SETS_CHANGED", ...timingVariables(P, DEFAULTS)],
  secrets: ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"],
  configure,
  create: (config, ctx) => new Route53(config, ctx),
});
