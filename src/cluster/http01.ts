/**
 * http-01 across hosts (docs/cluster.md): the issuing host publishes each key authorization under
 * `P/v1/http01/<token>`; `acme-renew serve-http01` on every host answers
 * `/.well-known/acme-challenge/<token>` from there, so the CA's request may reach any host.
 * A key authorization is not a secret (the CA and anyone on the path see it in the clear).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { isClusterError } from "./errors.js";
import type { EtcdBackend } from "./open.js";

const PREFIX = "/.well-known/acme-challenge/";
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

export async function publishKeyAuthorization(b: EtcdBackend, token: string, keyAuthorization: string): Promise<void> {
  await b.storage.put(b.layout.http01(token), Buffer.from(keyAuthorization, "utf8"));
}

export async function removeKeyAuthorization(b: EtcdBackend, token: string): Promise<void> {
  await b.storage.delete(b.layout.http01(token));
}

/** The responder: GET/HEAD of a token → its key authorization (200), else 404; etcd trouble → 503. */
export function http01Server(b: EtcdBackend, onError: (m: string) => void): Server {
  return createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const token = path.startsWith(PREFIX) ? path.slice(PREFIX.length) : "";
    if ((req.method !== "GET" && req.method !== "HEAD") || !TOKEN.test(token)) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    try {
      const e = await b.storage.get(b.layout.http01(token));
      if (!e) {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
        return;
      }
      res.writeHead(200, { "content-type": "text/plain", "content-length": String(e.value.length) }).end(req.method === "HEAD" ? undefined : e.value);
    } catch (err) {
      onError(`etcd: ${isClusterError(err) ? `${err.kind}: ${err.message}` : String(err)}`);
      res.writeHead(503, { "content-type": "text/plain" }).end("unavailable\n");
    }
  });
}
