/** http-01 through a directory the web server already serves: <webroot>/.well-known/acme-challenge/<token>. */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { AcmeFailure } from "../acme/errors.js";
import type { ChallengeTask, Solver } from "./solver.js";

export class WebrootSolver implements Solver {
  readonly type = "http-01" as const;
  constructor(private readonly webroot: string) {}

  private file(t: ChallengeTask): string {
    return join(this.webroot, ".well-known", "acme-challenge", t.token);
  }

  async prepare(t: ChallengeTask): Promise<void> {
    const dir = join(this.webroot, ".well-known", "acme-challenge");
    try {
      // One level at a time: Node's recursive mkdir says ENOENT where the truth is EROFS or EACCES.
      await fs.stat(this.webroot);
      for (const d of [join(this.webroot, ".well-known"), dir]) await mkdirOnce(d);
      await fs.writeFile(this.file(t), t.keyAuthorization, { mode: 0o644 });
      await fs.chmod(this.file(t), 0o644); // world-readable whatever our umask
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === "ENOENT" ? `ENOENT: ${this.webroot} does not exist` : (code ?? String(e));
      throw new AcmeFailure("local", `webroot ${dir}: cannot write the challenge file (${why})`, { cause: e });
    }
  }

  async cleanup(t: ChallengeTask): Promise<void> {
    await fs.rm(this.file(t), { force: true });
  }

  async close(): Promise<void> {}
}

/** Creates `d` if missing, enterable by the web server whatever our umask (systemd: UMask=0027). */
async function mkdirOnce(d: string): Promise<void> {
  try {
    await fs.mkdir(d, { mode: 0o755 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return;
    throw e;
  }
  await fs.chmod(d, 0o755);
}
