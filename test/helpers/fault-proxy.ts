/**
 * A fault-injecting HTTPS proxy in front of Pebble (loopback only). Each request is passed through
 * or answered by the test's rule: 500, stall (no answer), reset, 429 with Retry-After, a TLS
 * certificate nobody trusts, a delay, an answer lost after Pebble acted on the request… Pebble
 * builds its URLs from the Host header, which the proxy keeps, so the client only ever sees the
 * proxy's address. Counts requests by method and path; remembers which name each authorization
 * and challenge URL belongs to (from Pebble's authorization answers).
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
  /** Pebble gets the request and acts on it; its answer is dropped (connection reset) or replaced by `answer`. */
  | { kind: "lose"; answer?: { status: number; problem?: string; detail?: string; retryAfter?: string } }
  /** Hold the request `ms`, then do `then`. */
  | { kind: "delay"; ms: number; then: Action }
  /** Pass it on, but hand the client `edit(upstream body)` instead of the CA's body. */
  | { kind: "edit"; edit: (body: string) => string }
  /** Pass `body` on to Pebble instead of the client's request body (e.g. a JWS re-signed with a changed payload). */
  | { kind: "rewrite"; body: string };

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
  /** The identifier (e.g. "a.example.com") an authorization or challenge path belongs to, once Pebble's authorization answer passed. */
  identifierOf(path: string): string | undefined;
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
  const owners = new Map<string, string>();
  /** Learns path → identifier from an authorization object. */
  const learn = (path: string, body: string) => {
    try {
      const a = JSON.parse(body) as { identifier?: { value?: string }; challenges?: Array<{ url?: string }> };
      const id = a.identifier?.value;
      if (!id || !Array.isArray(a.challenges)) return;
      owners.set(path, id);
      for (const c of a.challenges) if (c.url) owners.set(new URL(c.url).pathname, id);
    } catch {
      /* not an authorization */
    }
  };
  const problemBody = (a: { status: number; problem?: string; detail?: string }) =>
    JSON.stringify({ type: `urn:ietf:params:acme:error:${a.problem ?? "serverInternal"}`, detail: a.detail ?? "injected by the fault proxy", status: a.status });
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
    let action = rule({ method: req.method ?? "GET", path, n: seen.length, body, payload });
    while (action.kind === "delay") {
      const { ms, then } = action;
      await new Promise((r) => setTimeout(r, ms));
      action = then;
    }
    switch (action.kind) {
      case "stall":
        stalled.add(res);
        return;
      case "reset":
        req.socket.destroy();
        return;
      case "status": {
        const headers: Record<string, string> = { "content-type": "application/problem+json" };
        if (action.retryAfter) headers["retry-after"] = action.retryAfter;
        res.writeHead(action.status, headers).end(problemBody(action));
        return;
      }
      case "pass":
      case "lose":
      case "edit":
      case "rewrite": {
        const headers = { ...req.headers };
        const sent = action.kind === "rewrite" ? action.body : body;
        if (action.kind === "rewrite") headers["content-length"] = String(Buffer.byteLength(sent));
        // An edited body must be plain text.
        if (action.kind === "edit") delete headers["accept-encoding"];
        const up = httpsRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers, ca }, (ur) => {
          const parts: Buffer[] = [];
          ur.on("data", (d: Buffer) => parts.push(d));
          ur.on("end", () => {
            const answer = Buffer.concat(parts);
            if (path.startsWith("/authZ/")) learn(path, answer.toString("utf8"));
            if (action.kind === "pass" || action.kind === "rewrite") {
              res.writeHead(ur.statusCode ?? 502, ur.headers).end(answer);
            } else if (action.kind === "edit") {
              const out = Buffer.from(action.edit(answer.toString("utf8")));
              const h = { ...ur.headers, "content-length": String(out.length) };
              delete h["transfer-encoding"];
              res.writeHead(ur.statusCode ?? 502, h).end(out);
            } else if (action.answer) {
              const headers: Record<string, string> = { "content-type": "application/problem+json" };
              if (action.answer.retryAfter) headers["retry-after"] = action.answer.retryAfter;
              res.writeHead(action.answer.status, headers).end(problemBody(action.answer));
            } else {
              req.socket.destroy();
            }
          });
          ur.on("error", () => res.destroy());
        });
        up.on("error", () => res.destroy());
        up.end(sent);
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
    identifierOf: (p) => owners.get(p),
    async close() {
      for (const r of stalled) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
