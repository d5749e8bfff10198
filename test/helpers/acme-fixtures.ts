/** Pieces the end-to-end tests against Pebble share: configs per challenge, a DNS hook, a webroot server, a stub systemctl. */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Pebble } from "./pebble.js";

/** A lego-exec-protocol hook that sets/clears TXT records in pebble-challtestsrv. */
export function writeDnsHook(dir: string, opts: { fail?: boolean; sleepSeconds?: number } = {}): string {
  const file = join(dir, "dns-hook.mjs");
  writeFileSync(
    file,
    `#!/usr/bin/env node
const [action, fqdn, value] = process.argv.slice(2);
${opts.sleepSeconds ? `await new Promise((r) => setTimeout(r, ${opts.sleepSeconds * 1000}));` : ""}
${opts.fail ? `console.error("hook: refusing on purpose"); process.exit(3);` : ""}
const path = action === "present" ? "/set-txt" : "/clear-txt";
const body = action === "present" ? { host: fqdn, value } : { host: fqdn };
const r = await fetch(process.env.CHALLTESTSRV_URL + path, { method: "POST", body: JSON.stringify(body) });
if (!r.ok) { console.error("challtestsrv said", r.status); process.exit(1); }
console.log("hook", action, fqdn);
`,
  );
  chmodSync(file, 0o755);
  return file;
}

/** Serves `root` over HTTP on 127.0.0.1:port (the web server a webroot config relies on). */
export async function serveWebroot(root: string, port: number): Promise<Server> {
  const server = createServer(async (req, res) => {
    try {
      const body = await readFile(join(root, decodeURIComponent((req.url ?? "/").split("?")[0]!)));
      res.writeHead(200).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
  return server;
}

/** A `systemctl` on PATH that records its arguments (one call per line) in <dir>/systemctl.log. */
export function stubSystemctl(dir: string, exitCode = 0): string {
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "systemctl"), `#!/bin/sh\necho "$@" >> "${join(dir, "systemctl.log")}"\nexit ${exitCode}\n`);
  chmodSync(join(bin, "systemctl"), 0o755);
  return bin;
}

export type ChallengeKind = "webroot" | "listenHTTP" | "listenTLS" | "dnsHook";

export function baseConfig(p: Pebble, extra: Record<string, unknown> = {}) {
  return { server: p.directoryUrl, caBundle: p.caBundle, email: "ops@example.com", acceptTerms: true, ...extra };
}

export function challengeConfig(kind: ChallengeKind, p: Pebble, dir: string): Record<string, unknown> {
  switch (kind) {
    case "webroot":
      return { webroot: join(dir, "www") };
    case "listenHTTP":
      return { listenHTTP: `127.0.0.1:${p.httpPort}` };
    case "listenTLS":
      return { listenTLS: `127.0.0.1:${p.tlsPort}` };
    case "dnsHook": {
      // dnsHook is lego's exec provider: sequential, EXEC_SEQUENCE_INTERVAL (60 s) between two records at
      // one name (a wildcard and its base) — 0 here. challtestsrv serves no SOA, so the authoritative
      // check (tested against BIND in dns-*.test.ts) is off; its set-txt is visible at once anyway.
      const envFile = join(dir, "exec.env");
      writeFileSync(envFile, "EXEC_SEQUENCE_INTERVAL=0\n", { mode: 0o600 });
      return { dnsHook: writeDnsHook(dir), environmentFile: envFile, dnsResolver: `127.0.0.1:${p.dnsPort}`, dnsPropagationCheck: false };
    }
  }
}
