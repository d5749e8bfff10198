/**
 * Replay nonces (RFC 8555 §6.5), per CA directory and shared by every certificate of the process:
 * the nonce of each answer is kept for the next signed request, so a fresh one (HEAD newNonce) is
 * needed only when none is held — at the start, or when concurrent requests outnumber the answers.
 * A nonce is handed out once. Old nonces may have expired on the CA's side: the badNonce answer
 * carries a fresh one, and the request is sent again with it.
 */
const MAX_HELD = 16;

export class NoncePool {
  private held: string[] = [];

  put(nonce: unknown): void {
    if (typeof nonce !== "string" || !nonce) return;
    this.held.push(nonce);
    if (this.held.length > MAX_HELD) this.held.shift();
  }

  /** The newest nonce held (the likeliest to be still valid), or undefined. */
  take(): string | undefined {
    return this.held.pop();
  }

  get size(): number {
    return this.held.length;
  }
}

const pools = new Map<string, NoncePool>();

export function noncePool(server: string): NoncePool {
  let p = pools.get(server);
  if (!p) {
    p = new NoncePool();
    pools.set(server, p);
  }
  return p;
}
