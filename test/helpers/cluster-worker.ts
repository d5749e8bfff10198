/**
 * A separate process that uses the etcd backend, for the lock tests (kill -9, SIGSTOP, contention
 * between processes). Started with one JSON argument; talks JSON lines on stdout, takes commands
 * on stdin.
 *
 *   mode "contend": `rounds` times: lock, read the counter, CAS counter+1 fenced, release.
 *   mode "hold":    lock, print {ev:"locked"}, then on stdin "write <text>": fenced CAS of `key`
 *                   from the version read right after locking; prints the result; "exit" ends.
 */
import { createInterface } from "node:readline";
import { openEtcd } from "../../src/cluster/open.js";

interface Args {
  mode: "contend" | "hold";
  endpoints: string[];
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  usernameFile?: string;
  passwordFile?: string;
  prefix: string;
  name: string;
  key: string;
  ttlSeconds: number;
  rounds?: number;
  waitMs?: number;
}

const a = JSON.parse(process.argv[2]!) as Args;
const say = (o: object) => process.stdout.write(`${JSON.stringify({ pid: process.pid, t: Date.now(), ...o })}\n`);

const b = await openEtcd({ etcd: { endpoints: a.endpoints, caFile: a.caFile ?? null, certFile: a.certFile ?? null, keyFile: a.keyFile ?? null, usernameFile: a.usernameFile ?? null, passwordFile: a.passwordFile ?? null }, prefix: a.prefix });

if (a.mode === "contend") {
  for (let i = 0; i < (a.rounds ?? 1); i++) {
    const l = await b.locker.lock(a.name, { waitMs: a.waitMs ?? 120_000, ttlSeconds: a.ttlSeconds });
    say({ ev: "locked", token: l.fence.token });
    const cur = await b.storage.get(a.key);
    const n = cur ? Number(cur.value.toString()) : 0;
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
    const r = await b.storage.compareAndSwap(a.key, cur?.version ?? null, Buffer.from(String(n + 1)), { fence: l.fence });
    say({ ev: "cas", ok: r.ok, reason: r.ok ? null : r.reason, n: n + 1 });
    say({ ev: "unlock" });
    await l.release();
  }
  say({ ev: "done", requests: b.requests() });
  await b.close();
} else {
  const l = await b.locker.lock(a.name, { waitMs: a.waitMs ?? 60_000, ttlSeconds: a.ttlSeconds });
  const cur = await b.storage.get(a.key);
  say({ ev: "locked", token: l.fence.token, version: cur?.version ?? null });
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.startsWith("write ")) {
      // Deliberately ignores l.lost: the point is that the store refuses the write by itself.
      const r = await b.storage.compareAndSwap(a.key, cur?.version ?? null, Buffer.from(line.slice(6)), { fence: l.fence });
      say({ ev: "cas", ok: r.ok, reason: r.ok ? null : r.reason, current: r.ok ? null : (r.current?.value.toString() ?? null), lost: l.lost.aborted });
    } else if (line === "exit") break;
  }
  await l.release();
  await b.close();
  process.stdin.destroy(); // the parent keeps its end open: let the process end
}
