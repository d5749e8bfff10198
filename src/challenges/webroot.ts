/**
 * http-01 through a directory the web server already serves: <webroot>/.well-known/acme-challenge/<token>.
 *
 * Whoever can write the webroot must not be able to make us write, chmod or delete anything else
 * through a symbolic link. So below the configured webroot nothing is reached by path: each level is
 * opened with O_NOFOLLOW|O_DIRECTORY relative to the directory above it (via /proc/self/fd/<fd>/,
 * Node has no openat), the token file is created with O_CREAT|O_EXCL|O_NOFOLLOW, modes are set on
 * the open descriptors, and cleanup unlinks the token in the very directory it was written to.
 * A symbolic link at any level is an error naming it.
 */
import { constants, promises as fs } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { AcmeFailure } from "../acme/errors.js";
import type { ChallengeTask, Solver } from "./solver.js";

const LEVELS = [".well-known", "acme-challenge"] as const;
const O_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const O_NEW_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
/** RFC 8555 §8.3: base64url; anything else (a hostile or broken CA) could name another path. */
const TOKEN = /^[A-Za-z0-9_-]+$/;

const at = (dir: FileHandle, name: string) => `/proc/self/fd/${dir.fd}/${name}`;
const code = (e: unknown) => (e as NodeJS.ErrnoException).code;

class Refused extends Error {}

export class WebrootSolver implements Solver {
  readonly type = "http-01" as const;
  /** The acme-challenge directory each placed token was written to, for its cleanup. */
  private readonly placed = new Map<string, FileHandle>();

  constructor(private readonly webroot: string) {}

  private get dir(): string {
    return join(this.webroot, ...LEVELS);
  }

  async prepare(t: ChallengeTask): Promise<void> {
    if (!TOKEN.test(t.token)) throw new AcmeFailure("local", `webroot: the CA's token ${JSON.stringify(t.token.slice(0, 80))} is not base64url; not writing it`);
    let dir: FileHandle | null = null;
    try {
      dir = await this.openChallengeDir();
      await writeToken(dir, t, join(this.dir, t.token));
      await this.placed.get(t.token)?.close();
      this.placed.set(t.token, dir);
    } catch (e) {
      await dir?.close().catch(() => {});
      if (e instanceof Refused) throw new AcmeFailure("local", `webroot: ${e.message}; refusing to write through it`, { cause: e });
      const c = code(e);
      const why = c === "ENOENT" ? `ENOENT: ${this.webroot} does not exist` : (c ?? String(e));
      throw new AcmeFailure("local", `webroot ${this.dir}: cannot write the challenge file (${why})`, { cause: e });
    }
  }

  /** Opens (creating 0755 where missing) <webroot>/.well-known/acme-challenge without following links. */
  private async openChallengeDir(): Promise<FileHandle> {
    // The configured webroot itself may be a link (e.g. /var/www → /srv/www): it is the admin's choice.
    let dir = await fs.open(this.webroot, constants.O_RDONLY | constants.O_DIRECTORY);
    let path = this.webroot;
    try {
      for (const name of LEVELS) {
        path = join(path, name);
        const next = await openOrCreateDir(dir, name, path);
        await dir.close();
        dir = next;
      }
      return dir;
    } catch (e) {
      await dir.close().catch(() => {});
      throw e;
    }
  }

  async cleanup(t: ChallengeTask): Promise<void> {
    const dir = this.placed.get(t.token);
    if (!dir) return;
    this.placed.delete(t.token);
    try {
      // unlink never follows a link: at worst it removes one that replaced our file.
      await fs.unlink(at(dir, t.token)).catch((e) => {
        if (code(e) !== "ENOENT") throw e;
      });
    } finally {
      await dir.close();
    }
  }

  async close(): Promise<void> {
    for (const dir of this.placed.values()) await dir.close().catch(() => {});
    this.placed.clear();
  }
}

/** `name` in `parent` as an open directory: created 0755 (whatever our umask) when missing, never a link. */
async function openOrCreateDir(parent: FileHandle, name: string, path: string): Promise<FileHandle> {
  let created = false;
  try {
    await fs.mkdir(at(parent, name), { mode: 0o755 });
    created = true;
  } catch (e) {
    if (code(e) !== "EEXIST") throw e;
  }
  let dir: FileHandle;
  try {
    dir = await fs.open(at(parent, name), O_DIR);
  } catch (e) {
    // O_NOFOLLOW|O_DIRECTORY on a link: ELOOP, or ENOTDIR (Linux); lstat tells which it was.
    if (code(e) === "ELOOP" || code(e) === "ENOTDIR") {
      const link = await fs.lstat(at(parent, name)).then((st) => st.isSymbolicLink(), () => false);
      throw new Refused(`${path} is ${link ? "a symbolic link" : "not a directory"}`);
    }
    throw e;
  }
  if (created) await dir.chmod(0o755); // fchmod: the directory we made, enterable by the web server
  return dir;
}

/** Creates the token file 0644 in `dir`; a regular file left by a killed run is replaced, a link refused. */
async function writeToken(dir: FileHandle, t: ChallengeTask, path: string): Promise<void> {
  const file = at(dir, t.token);
  const old = await fs.lstat(file).catch((e) => {
    if (code(e) === "ENOENT") return null;
    throw e;
  });
  if (old?.isSymbolicLink()) throw new Refused(`${path} is a symbolic link`);
  if (old && !old.isFile()) throw new Refused(`${path} is not a regular file`);
  if (old) await fs.unlink(file);
  let h: FileHandle;
  try {
    h = await fs.open(file, O_NEW_FILE, 0o644);
  } catch (e) {
    // Only a concurrent writer can make it reappear between the unlink and here.
    if (code(e) === "EEXIST" || code(e) === "ELOOP") throw new Refused(`${path} appeared while writing it (a symbolic link?)`);
    throw e;
  }
  try {
    await h.writeFile(t.keyAuthorization);
    await h.chmod(0o644); // world-readable whatever our umask
  } finally {
    await h.close();
  }
}
