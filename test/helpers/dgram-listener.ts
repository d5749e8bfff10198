/** A real unix datagram listener (python3), for sd_notify and journald protocol tests. */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import type { Readable } from "node:stream";

// Binds a unix datagram socket (a path, or "@name" for the abstract namespace), prints READY, then one
// base64 line per datagram. recv() without a control buffer makes the kernel close passed fds, which
// is what ends systemd-notify's barrier wait.
const LISTENER = `
import base64, socket, sys
a = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\\0" + a[1:] if a.startswith("@") else a)
print("READY", flush=True)
while True:
    print(base64.b64encode(s.recv(1 << 20)).decode(), flush=True)
`;

export class Listener {
  readonly messages: string[] = [];
  /** The same datagrams as bytes. */
  readonly datagrams: Buffer[] = [];
  private waiters: Array<() => void> = [];
  private constructor(private readonly proc: ChildProcessByStdio<null, Readable, null>) {}

  static start(address: string): Promise<Listener> {
    const proc = spawn("python3", ["-c", LISTENER, address], { stdio: ["ignore", "pipe", "inherit"] });
    const l = new Listener(proc);
    return new Promise((resolve, reject) => {
      let buf = "";
      proc.on("error", reject);
      proc.on("exit", (code) => reject(new Error(`listener exited ${code}`)));
      proc.stdout.setEncoding("utf8");
      proc.stdout.on("data", (d: string) => {
        buf += d;
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line === "READY") resolve(l);
          else {
            const d = Buffer.from(line, "base64");
            l.datagrams.push(d);
            l.messages.push(d.toString("utf8"));
            for (const w of l.waiters.splice(0)) w();
          }
        }
      });
    });
  }

  /** Our datagrams: everything except systemd-notify's own "BARRIER=1". */
  ours(): string[] {
    return this.messages.filter((m) => m !== "BARRIER=1");
  }

  async waitFor(n: number, timeoutMs = 5000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.ours().length < n && Date.now() < deadline) {
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return this.ours();
  }

  /** Waits until `n` datagrams of any kind arrived. */
  async waitForRaw(n: number, timeoutMs = 5000): Promise<Buffer[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.datagrams.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.datagrams;
  }

  stop() {
    this.proc.removeAllListeners("exit");
    this.proc.kill("SIGKILL");
  }
}

