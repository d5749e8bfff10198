/**
 * Namecheap XML API (https://www.namecheap.com/support/api/methods/domains-dns/get-hosts/ and
 * …/set-hosts/; the request parameters: https://www.namecheap.com/support/api/intro/):
 *   GET  /xml.response?ApiUser&ApiKey&UserName&ClientIp&Command=namecheap.domains.dns.getHosts&SLD&TLD
 *   POST /xml.response (form) …&Command=namecheap.domains.dns.setHosts&HostName1&RecordType1&Address1&MXPref1&TTL1…
 * Answers are <ApiResponse Status="OK|ERROR"> documents with <Errors><Error Number>; setHosts
 * replaces every host record of the domain. The client IP must be the whitelisted one; /getip
 * stands for dynamicdns.park-your-domain.com/getip.
 */
import { refuse, type FakeApi, type FakeRequest, type Handler } from "../fake-api.js";

interface Host {
  Name: string;
  Type: string;
  Address: string;
  MXPref: string;
  TTL: string;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
const envelope = (command: string, inner: string, errors: string[] = []) =>
  `<?xml version="1.0" encoding="utf-8"?>\n<ApiResponse Status="${errors.length ? "ERROR" : "OK"}" xmlns="http://api.namecheap.com/xml.response"><Errors>${errors.map((e, i) => `<Error Number="${1011100 + i}">${esc(e)}</Error>`).join("")}</Errors><Warnings /><RequestedCommand>${command}</RequestedCommand><CommandResponse Type="${command}">${inner}</CommandResponse><Server>FAKE</Server><ExecutionTime>0.01</ExecutionTime></ApiResponse>`;

export function namecheapFake(o: { user: string; key: string; ip: string; domains: Record<string, Host[]> }): Handler {
  return async (r: FakeRequest, fake: FakeApi) => {
    if (r.method === "GET" && r.path === "/getip") return { body: o.ip };
    if (r.path !== "/xml.response") return refuse(fake, r, "no such endpoint", 404);
    const p = r.method === "POST" ? new URLSearchParams(r.body) : r.query;
    if (r.method === "POST" && r.headers["content-type"] !== "application/x-www-form-urlencoded") refuse(fake, r, "setHosts is a form POST");
    const command = p.get("Command") ?? "";
    const xml = (inner: string, errors: string[] = []) => ({ body: envelope(command, inner, errors), headers: { "content-type": "text/xml" } });
    if (p.get("ApiUser") !== o.user || p.get("UserName") !== o.user || p.get("ApiKey") !== o.key) return xml("", ["API Key is invalid or API access has not been enabled"]);
    if (p.get("ClientIp") !== o.ip) return xml("", [`Invalid request IP: ${p.get("ClientIp")}`]);
    const domain = `${p.get("SLD")}.${p.get("TLD")}`;
    const hosts = o.domains[domain];
    if (!hosts) return xml("", ["Domain name not found"]);
    if (command === "namecheap.domains.dns.getHosts" && r.method === "GET") {
      return xml(`<DomainDNSGetHostsResult Domain="${domain}" IsUsingOurDNS="true">${hosts.map((h, i) => `<host HostId="${i + 1}" Name="${esc(h.Name)}" Type="${h.Type}" Address="${esc(h.Address)}" MXPref="${h.MXPref}" TTL="${h.TTL}" AssociatedAppTitle="" FriendlyName="" IsActive="true" IsDDNSEnabled="false" />`).join("")}</DomainDNSGetHostsResult>`);
    }
    if (command === "namecheap.domains.dns.setHosts" && r.method === "POST") {
      const next: Host[] = [];
      for (let i = 1; p.has(`HostName${i}`); i++) {
        const h = { Name: p.get(`HostName${i}`)!, Type: p.get(`RecordType${i}`) ?? "", Address: p.get(`Address${i}`) ?? "", MXPref: p.get(`MXPref${i}`) ?? "", TTL: p.get(`TTL${i}`) ?? "" };
        if (!h.Type || !h.Address || !/^\d+$/.test(h.TTL)) refuse(fake, r, `host ${i} incomplete`);
        next.push(h);
      }
      o.domains[domain] = next;
      const at = (h: Host) => (h.Name === "@" ? domain : `${h.Name}.${domain}`);
      for (const n of new Set([...hosts, ...next].filter((x) => x.Type === "TXT").map(at))) await fake.store.set(n, next.filter((x) => x.Type === "TXT" && at(x) === n).map((x) => x.Address));
      return xml(`<DomainDNSSetHostsResult Domain="${domain}" IsSuccess="true"><Warnings /></DomainDNSSetHostsResult>`);
    }
    return refuse(fake, r, `command ${command} with ${r.method}`);
  };
}
