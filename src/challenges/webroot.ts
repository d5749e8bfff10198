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
      const created = await fs.mkdir(dir, { recursive: true, mode: 0o755 });
      // The web server must be able to enter what we created, whatever our umask (systemd: UMask=0027).
      if (created) for (const d of [join(this.webroot, ".well-known"), dir]) if (d.length >= created.length) await fs.chmod(d, 0o755);
      await fs.writeFile(this.file(t), t.keyAuthorization, { mode: 0o644 });
      await fs.chmod(this.file(t), 0o644); // world-readable whatever our umask
    } catch (e) {
      throw new AcmeFailure("local", `webroot ${dir}: cannot write the challenge file (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
    }
  }

  async cleanup(t: ChallengeTask): Promise<void> {
    await fs.rm(this.file(t), { force: true });
  }

  async close(): Promise<void> {}
}
