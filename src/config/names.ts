/** Syntax checks for the strings a config names: domains, addresses, units, paths. */
import { isIP } from "node:net";

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * Names the checks below accept, in one test: labels of letters, digits and inner hyphens, no "--"
 * at all (A-labels and the reserved 3rd/4th position take the long way), no wildcard.
 */
const PLAIN_DOMAIN = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** Returns null when `name` is an acceptable certificate name, else the reason. */
export function checkDomain(name: string): string | null {
  return name.length <= 253 && PLAIN_DOMAIN.test(name) && !name.includes("--") ? null : domainProblem(name);
}

/** checkDomain without the one-test shortcut (the tests hold the two equal). */
export function domainProblem(name: string): string | null {
  if (name.length === 0) return "empty domain name";
  if (name.length > 253) return "domain name longer than 253 characters";
  if (name !== name.trim()) return "domain name has surrounding whitespace";
  if (/[^\x21-\x7e]/.test(name)) return "non-ASCII or control characters (write IDNs as A-labels, xn--…)";
  if (/[/\\]/.test(name)) return "path separators are not allowed in a domain name";
  if (/[;&|`$()<>'"!{}[\]\s,=^~#%?]/.test(name)) return "shell metacharacters are not allowed in a domain name";
  const labels = name.toLowerCase().split(".");
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l === "*") {
      if (i !== 0) return "a wildcard is only allowed as the leftmost label (*.example.com)";
      if (labels.length < 3) return "a wildcard needs at least two labels after *.";
      continue;
    }
    if (l.includes("*")) return "a wildcard is only allowed as a whole leftmost label (*.example.com)";
    if (l.length === 0) return "empty label (two dots in a row, or a leading/trailing dot)";
    if (!LABEL.test(l)) return `invalid label "${l}" (letters, digits and inner hyphens only, at most 63)`;
    if (/^..--/.test(l) && !l.startsWith("xn--")) return `invalid label "${l}" (hyphens in 3rd and 4th position are reserved for xn-- A-labels)`;
  }
  return null;
}

export function isWildcard(name: string): boolean {
  return name.startsWith("*.");
}

/** Parses "[host]:port", "host:port" or ":port". Host "" means all addresses. */
export function parseHostPort(s: string): { host: string; port: number } | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/.exec(s);
  if (!m) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1] ?? m[2] ?? "", port };
}

/** One DNS server address: "IP", "IP:port", "[IPv6]:port" or a bare IPv6 address; port 53 by default. */
export interface DnsServer {
  host: string;
  port: number;
}

function parseDnsServer(s: string): DnsServer | string {
  let host = s;
  let port = 53;
  const bracket = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(s);
  if (bracket) {
    host = bracket[1]!;
    if (bracket[2]) port = Number(bracket[2]);
  } else if (isIP(s) !== 6) {
    const m = /^([^:]+):(\d{1,5})$/.exec(s);
    if (m) {
      host = m[1]!;
      port = Number(m[2]);
    }
  }
  if (!isIP(host)) return `"${s}" is not an IP address (with an optional :port); a host name would need a resolver to find the resolver`;
  if (port < 1 || port > 65535) return `"${s}": port out of range`;
  return { host, port };
}

/**
 * `dnsResolver`: one or more DNS servers (lego's --dns.resolvers), comma-separated. Returns the
 * servers or the reason the string is not acceptable.
 */
export function parseDnsResolvers(s: string): DnsServer[] | string {
  const parts = s.split(",").map((p) => p.trim());
  if (parts.some((p) => p === "")) return "empty entry in the list (expected \"IP[:port]\", comma-separated)";
  const out: DnsServer[] = [];
  for (const p of parts) {
    const r = parseDnsServer(p);
    if (typeof r === "string") return r;
    out.push(r);
  }
  return out;
}

/** A cert's config name: becomes a directory name and a systemd instance name. */
export function checkCertName(name: string): string | null {
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/.test(name)) return "must be letters, digits, '.', '_' or '-', not starting with '.' or '-'";
  if (name === "defaults") return "\"defaults\" is reserved for defaults.json";
  return null;
}

export function checkUnitName(s: string): string | null {
  return /^[A-Za-z0-9:_.\\@-]+$/.test(s) && !s.startsWith("-") ? null : "not a systemd unit name";
}

export function checkAbsolutePath(s: string): string | null {
  if (!s.startsWith("/")) return "must be an absolute path";
  if (s.includes("\0")) return "contains a NUL byte";
  return null;
}

export function checkHttpsUrl(s: string): string | null {
  let why = httpsChecked.get(s);
  if (why !== undefined) return why;
  try {
    why = new URL(s).protocol === "https:" ? null : "must be an https:// URL";
  } catch {
    why = "not a URL";
  }
  if (httpsChecked.size < 1000) httpsChecked.set(s, why);
  return why;
}
/** 10,000 configs name the same few servers: URL parsing was a fifth of their validation (check --all). */
const httpsChecked = new Map<string, string | null>();

export function checkEmail(s: string): string | null {
  return /^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/.test(s) ? null : "not an email address";
}

/** Returns null when `p` is a usable cluster key prefix: absolute, no empty, "." or ".." segments, no trailing slash. */
export function checkClusterPrefix(p: string): string | null {
  if (!p.startsWith("/")) return "must start with /";
  if (p.length > 1 && p.endsWith("/")) return "must not end with /";
  if (p.length > 200) return "longer than 200 characters";
  const segs = p === "/" ? [] : p.slice(1).split("/");
  for (const s of segs) if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(s)) return `segment "${s}" must be letters, digits, '.', '_' or '-', not starting with '.' or '-'`;
  return null;
}

/** Returns null when `e` is an etcd client URL: http(s)://host:port, nothing else. */
export function checkEtcdEndpoint(e: string): string | null {
  let u: URL;
  try {
    u = new URL(e);
  } catch {
    return "not a URL";
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return "must be http:// or https://";
  if (u.pathname !== "/" || u.search || u.hash || u.username || u.password) return "must be scheme://host:port only (no path, query or credentials)";
  return null;
}
