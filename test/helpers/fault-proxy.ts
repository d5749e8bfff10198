/**
 * A fault-injecting HTTPS proxy in front of Pebble (loopback only). Each request is passed through
 * or answered by the test's rule: 500, stall (no answer), reset, 429 with Retry-After, a TLS
 * certificate nobody trusts… Pebble builds its URLs from the Host header, which the proxy keeps,
 * so the client only ever sees the proxy's address. Counts requests by method and path.
 */
import { createServer as createHttpsServer, request as httpsRequest } from "node:https";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Pebble } from "./pebble.js";

export type Action =
  | { kind: "pass" }
  | { kind: "status"; status: number; problem?: string; detail?: string; retryAfter?: string }
  | { kind: "stall" }
  | { kind: "reset" }
  /** Pass it on, but hand the client `edit(upstream body)` instead of the CA's body. */
  | { kind: "edit"; edit: (body: string) => string };

/** `payload`: a POST's JWS payload, decoded (null for GETs and bodies that are not a JWS). */
export type Rule = (req: { method: string; path: string; n: number; body: string; payload: unknown }) => Action;

export interface FaultProxy {
  directoryUrl: string;
  port: number;
  setRule(r: Rule): void;
  /** Requests seen, as "METHOD /path" (query stripped). */
  seen: string[];
  /** JWS payloads of POSTs, decoded, with their path. */
  payloads: Array<{ path: string; payload: unknown }>;
  count(pred: (line: string) => boolean): number;
  close(): Promise<void>;
}

export const pass: Rule = () => ({ kind: "pass" });

export async function startFaultProxy(pebble: Pebble): Promise<FaultProxy> {
  const target = new URL(pebble.directoryUrl);
  const ca = readFileSync(pebble.caBundle);
  let rule: Rule = pass;
  const seen: string[] = [];
  const payloads: Array<{ path: string; payload: unknown }> = [];
  const stalled = new Set<ServerResponse>();
  const server = createHttpsServer({ cert: readFileSync(join(pebble.dir, "wfe-cert.pem")), key: readFileSync(join(pebble.dir, "wfe-key.pem")) }, async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const line = `${req.method} ${path}`;
    seen.push(line);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    let payload: unknown = null;
    if (req.method === "POST") {
      try {
        const jws = JSON.parse(body) as { payload?: string };
        payload = jws.payload ? JSON.parse(Buffer.from(jws.payload, "base64url").toString("utf8")) : null;
      } catch {
        payload = null;
      }
      payloads.push({ path, payload });
    }
    const action = rule({ method: req.method ?? "GET", path, n: seen.length, body, payload });
    switch (action.kind) {
      case "stall":
        stalled.add(res);
        return;
      case "reset":
        req.socket.destroy();
        return;
      case "status": {
        const problem = JSON.stringify({ type: `urn:ietf:params:acme:error:${action.problem ?? "serverInternal"}`, detail: action.detail ?? "injected by the fault proxy", status: action.status });
        const headers: Record<string, string> = { "content-type": "application/problem+json" };
        if (action.retryAfter) headers["retry-after"] = action.retryAfter;
        res.writeHead(action.status, headers).end(problem);
        return;
      }
      case "edit":
      case "pass": {
        const headers = { ...req.headers };
        if (action.kind === "edit") delete headers["accept-encoding"];
        const up = httpsRequest(
          { host: target.hostname, port: target.port, method: req.method, path: req.url, headers, ca },
          (ur) => {
            if (action.kind === "pass") {
              res.writeHead(ur.statusCode ?? 502, ur.headers);
              ur.pipe(res);
              return;
            }
            const parts: Buffer[] = [];
            ur.on("data", (d: Buffer) => parts.push(d));
            ur.on("end", () => {
              const out = Buffer.from(action.edit(Buffer.concat(parts).toString("utf8")));
              const h = { ...ur.headers, "content-length": String(out.length) };
              delete h["transfer-encoding"];
              res.writeHead(ur.statusCode ?? 502, h).end(out);
            });
          },
        );
        up.on("error", () => res.destroy());
        up.end(body);
      }
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    directoryUrl: `https://127.0.0.1:${port}${target.pathname}`,
    port,
    setRule(r) {
      rule = r;
    },
    seen,
    payloads,
    count: (pred) => seen.filter(pred).length,
    async close() {
      for (const r of stalled) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
