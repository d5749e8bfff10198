/**
 * Amazon Route 53 API 2013-04-01 (https://docs.aws.amazon.com/Route53/latest/APIReference/):
 *   GET  /2013-04-01/hostedzonesbyname?dnsname=                     ListHostedZonesByName
 *   GET  /2013-04-01/hostedzone/{Id}/rrset?name=&type=&maxitems=     ListResourceRecordSets
 *   POST /2013-04-01/hostedzone/{Id}/rrset/                          ChangeResourceRecordSets (XML ChangeBatch)
 *   GET  /2013-04-01/change/{Id}                                     GetChange (PENDING, then INSYNC)
 * Requests are SigV4-signed for service "route53", region us-east-1
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html): the fake recomputes the
 * signature from the request it got (secret key known) and answers 403 SignatureDoesNotMatch otherwise.
 * Errors: <ErrorResponse><Error><Type/><Code/><Message/></Error></ErrorResponse>.
 */
import { signV4 } from "../../../src/dns/aws-sigv4.js";
import { refuse, type FakeApi, type FakeRequest, type Handler } from "../fake-api.js";

const xmlErr = (status: number, code: string, message: string) => ({ status, body: `<?xml version="1.0"?>\n<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>fake</RequestId></ErrorResponse>`, headers: { "content-type": "text/xml" } });
const ok = (body: string) => ({ body: `<?xml version="1.0"?>\n${body}`, headers: { "content-type": "text/xml" } });
const tag = (xml: string, t: string) => [...xml.matchAll(new RegExp(`<${t}>([\\s\\S]*?)</${t}>`, "g"))].map((m) => m[1]!);
const unesc = (s: string) => s.replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&apos;/g, "'").replace(/&amp;/g, "&");

export function route53Fake(o: { keyId: string; secret: string; zones: Record<string, string>; base: () => string }): Handler {
  const sets = new Map<string, { ttl: number; values: string[] }>();
  let seq = 0;
  const changes = new Map<string, number>();
  return async (r: FakeRequest, fake: FakeApi) => {
    const auth = String(r.headers.authorization ?? "");
    const cred = /Credential=([^/]+)\/(\d{8})\/us-east-1\/route53\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})/.exec(auth);
    if (!cred || cred[1] !== o.keyId) return xmlErr(403, "InvalidClientTokenId", "The security token included in the request is invalid.");
    const amzDate = String(r.headers["x-amz-date"] ?? "");
    const when = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
    if (!(Math.abs(when.getTime() - Date.now()) < 300_000)) return xmlErr(403, "SignatureDoesNotMatch", "Signature expired");
    const signed = cred[3]!.split(";");
    const headers: Record<string, string> = {};
    for (const h of signed) if (h !== "host" && h !== "x-amz-date") headers[h] = String(r.headers[h]);
    const url = `${o.base()}${r.path}${r.query.size ? `?${r.query}` : ""}`;
    const expect = signV4({ method: r.method, url, headers, body: r.body, service: "route53", region: "us-east-1", credentials: { accessKeyId: o.keyId, secretAccessKey: o.secret, sessionToken: r.headers["x-amz-security-token"] as string | undefined }, now: when });
    if (expect.authorization !== auth) return xmlErr(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.");
    if (r.method === "GET" && r.path === "/2013-04-01/hostedzonesbyname") {
      const name = r.query.get("dnsname") ?? refuse(fake, r, "dnsname missing");
      const list = Object.entries(o.zones).filter(([z]) => z >= name).map(([z, id]) => `<HostedZone><Id>/hostedzone/${id}</Id><Name>${z}.</Name><CallerReference>x</CallerReference><Config><PrivateZone>false</PrivateZone></Config><ResourceRecordSetCount>2</ResourceRecordSetCount></HostedZone>`);
      return ok(`<ListHostedZonesByNameResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><HostedZones>${list.join("")}</HostedZones><DNSName>${name}</DNSName><IsTruncated>false</IsTruncated><MaxItems>100</MaxItems></ListHostedZonesByNameResponse>`);
    }
    let m = /^\/2013-04-01\/hostedzone\/([^/]+)\/rrset\/?$/.exec(r.path);
    if (m && !Object.values(o.zones).includes(decodeURIComponent(m[1]!))) return xmlErr(404, "NoSuchHostedZone", "No hosted zone found with ID");
    if (r.method === "GET" && m) {
      const name = r.query.get("name") ?? refuse(fake, r, "name missing");
      if (r.query.get("type") !== "TXT") refuse(fake, r, "type should be TXT");
      const s = sets.get(name.toLowerCase());
      const body = s ? `<ResourceRecordSet><Name>${name}</Name><Type>TXT</Type><TTL>${s.ttl}</TTL><ResourceRecords>${s.values.map((v) => `<ResourceRecord><Value>${v.replace(/&/g, "&amp;").replace(/"/g, "&quot;")}</Value></ResourceRecord>`).join("")}</ResourceRecords></ResourceRecordSet>` : "";
      return ok(`<ListResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ResourceRecordSets>${body}</ResourceRecordSets><IsTruncated>false</IsTruncated><MaxItems>1</MaxItems></ListResourceRecordSetsResponse>`);
    }
    if (r.method === "POST" && m && r.path.endsWith("/rrset/")) {
      if (r.headers["content-type"] !== "text/xml") refuse(fake, r, "content-type text/xml");
      const action = tag(r.body, "Action")[0];
      const name = tag(r.body, "Name")[0];
      const ttl = Number(tag(r.body, "TTL")[0]);
      const values = tag(r.body, "Value").map(unesc);
      if (!name || tag(r.body, "Type")[0] !== "TXT" || !Number.isInteger(ttl) || values.some((v) => !/^".*"$/.test(v))) refuse(fake, r, "a TXT ResourceRecordSet with quoted values");
      const key = name.toLowerCase();
      const cur = sets.get(key);
      if (action === "DELETE") {
        if (!cur || cur.ttl !== ttl || cur.values.join() !== values.join()) return xmlErr(400, "InvalidChangeBatch", "Tried to delete resource record set but it was not found or the values do not match");
        sets.delete(key);
      } else if (action === "UPSERT") sets.set(key, { ttl, values });
      else refuse(fake, r, `action ${action}`);
      await fake.store.set(name, (sets.get(key)?.values ?? []).map((v) => v.slice(1, -1)));
      const id = `C${++seq}`;
      changes.set(id, 0);
      return ok(`<ChangeResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeInfo><Id>/change/${id}</Id><Status>PENDING</Status><SubmittedAt>${new Date().toISOString()}</SubmittedAt></ChangeInfo></ChangeResourceRecordSetsResponse>`);
    }
    m = /^\/2013-04-01\/change\/([^/]+)$/.exec(r.path);
    if (r.method === "GET" && m && changes.has(m[1]!)) return ok(`<GetChangeResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeInfo><Id>/change/${m[1]}</Id><Status>INSYNC</Status><SubmittedAt>${new Date().toISOString()}</SubmittedAt></ChangeInfo></GetChangeResponse>`);
    return refuse(fake, r, "no such endpoint", 404);
  };
}
