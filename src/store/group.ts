/**
 * Resolves a group name to its gid through NSS — `getent group` (Node has no getgrnam), so files,
 * LDAP/sssd, systemd-userdb groups all count — once per process. A child process: used by
 * `validate` and by `run` before it orders, never on the offline path (`check`, `ready`, not-due runs).
 */
import { readFile } from "node:fs/promises";
import { describeEnd, runProgram } from "../hooks/spawn.js";

const TIMEOUT_MS = 10_000;
const cache = new Map<string, Promise<number>>();

/** The group does not exist (as opposed to: it could not be looked up). */
export class UnknownGroup extends Error {}

export function gidOf(group: string): Promise<number> {
  if (/^\d+$/.test(group)) return Promise.resolve(Number(group));
  let p = cache.get(group);
  if (!p) {
    p = lookup(group);
    cache.set(group, p);
    p.catch(() => cache.delete(group)); // a failed lookup (sssd not up yet) is tried again next time
  }
  return p;
}

async function lookup(group: string): Promise<number> {
  const r = await runProgram("getent", ["group", group], { timeoutMs: TIMEOUT_MS });
  if (r.ok) {
    const [name, , gid] = (r.output.split("\n")[0] ?? "").split(":");
    if (name === group && gid && /^\d+$/.test(gid)) return Number(gid);
    throw new Error(`cannot resolve group "${group}": getent answered ${JSON.stringify(r.output.slice(0, 100))}`);
  }
  // getent(1): exit 2 = "One or more supplied key could not be found in the database".
  if (r.end === "exited" && r.exitCode === 2) throw new UnknownGroup(`group "${group}" does not exist (NSS: getent group ${group} found nothing)`);
  if (r.end === "spawn-failed" && r.error === "ENOENT") return fromEtcGroup(group);
  throw new Error(`cannot resolve group "${group}": getent ${describeEnd(r, TIMEOUT_MS)}`);
}

/** Without getent on PATH: /etc/group only, and the error says so. */
async function fromEtcGroup(group: string): Promise<number> {
  const text = await readFile("/etc/group", "utf8");
  for (const line of text.split("\n")) {
    const [name, , gid] = line.split(":");
    if (name === group && gid !== undefined) return Number(gid);
  }
  throw new UnknownGroup(`group "${group}" does not exist (/etc/group; getent is not on PATH, so other NSS sources were not asked)`);
}
