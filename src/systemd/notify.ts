/**
 * sd_notify(3) for acme-renew@.service: STATUS= (what the run is doing, shown by `systemctl status`),
 * EXTEND_TIMEOUT_USEC= (more time than TimeoutStartSec= for a long renewal), ERRNO=, EXIT_STATUS=.
 *
 * Mechanism: the systemd-notify(1) binary, started with node:child_process `spawn` and an argument
 * array (no shell), one short-lived process per message. Why not a native AF_UNIX datagram module
 * (Node itself cannot send unix datagrams):
 *  - nothing to install or compile: wherever systemd sets NOTIFY_SOCKET, systemd-notify is there too
 *    (same package, and in the default PATH of NixOS units); no prebuilt binary to match the libc
 *    (glibc/musl, NixOS) and no node-gyp in Nix builds or CI;
 *  - this module sits on the fast path: it loads node:child_process (which pulls in net, dgram and
 *    streams, ~4 ms) only when the first message is sent, so nothing when NOTIFY_SOCKET is unset;
 *  - messages are few (a handful per run), so ~5–10 ms per spawn does not matter;
 *  - systemd-notify ≥ 246 waits by default until the manager has processed the message
 *    (sd_notify_barrier: a second datagram "BARRIER=1" carrying a pipe fd). So the sender is still
 *    alive when PID 1 maps its PID to our unit, which is what makes NotifyAccess=all reliable.
 * The price: the sender is a child, not the main PID, so the unit needs NotifyAccess=all (the shipped
 * one has it). Path sockets ("/run/systemd/notify") and abstract ones ("@name") both work, because
 * systemd-notify resolves NOTIFY_SOCKET itself.
 *
 * Contract: a no-op when NOTIFY_SOCKET is unset; never throws or rejects; every message takes at most
 * `timeoutMs` (default 2 s, then SIGKILL); when the mechanism is missing or broken it degrades to a
 * no-op with at most one debug note for the whole notifier. Messages are sent in call order.
 */

export interface Notifier {
  /** NOTIFY_SOCKET is set: messages are sent. */
  readonly enabled: boolean;
  /** STATUS=<text> (one line; newlines become spaces). */
  status(text: string): Promise<void>;
  /** EXTEND_TIMEOUT_USEC=<usec>: the unit must make progress again within usec from now. */
  extendTimeout(usec: number): Promise<void>;
  /** ERRNO=<n>: the errno-style reason of a failure, shown by `systemctl status`. */
  errno(n: number): Promise<void>;
  /** EXIT_STATUS=<code>. */
  exitStatus(code: number): Promise<void>;
  /** Any fields, sent as one datagram "K=V\nK=V…" in the order given. */
  send(fields: Record<string, string>): Promise<void>;
}

export interface NotifierOptions {
  /** The systemd-notify binary (looked up in env.PATH). */
  command?: string;
  /** Upper bound of one message, milliseconds (the helper is killed after it). */
  timeoutMs?: number;
  /** Receives at most one note for the notifier's lifetime (e.g. "systemd-notify not found"). */
  debug?: (message: string) => void;
}

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const NAME = /^[A-Z][A-Z0-9_]*$/;

export function createNotifier(env: NodeJS.ProcessEnv = process.env, o: NotifierOptions = {}): Notifier {
  const socket = env.NOTIFY_SOCKET ?? "";
  const enabled = socket !== "";
  const command = o.command ?? "systemd-notify";
  const timeoutMs = o.timeoutMs ?? 2000;
  let noted = false;
  let broken = false;
  let queue: Promise<void> = Promise.resolve();

  const note = (message: string) => {
    if (noted || !o.debug) return;
    noted = true;
    try {
      o.debug(message);
    } catch {
      /* a debug sink must not break notifications */
    }
  };

  /** One systemd-notify run; resolves (never rejects) when it exits, fails to start or is killed. */
  const run = async (args: string[]): Promise<void> => {
    const { spawn } = await import("node:child_process");
    return new Promise((resolve) => {
      let settled = false;
      let stderr = "";
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        resolve();
      };
      let child;
      try {
        child = spawn(command, ["--", ...args], {
          env: { NOTIFY_SOCKET: socket, PATH: env.PATH || DEFAULT_PATH },
          stdio: ["ignore", "ignore", "pipe"],
        });
      } catch (e) {
        broken = true;
        note(`sd_notify disabled: cannot start ${command}: ${(e as Error).message}`);
        return done();
      }
      child.stderr?.setEncoding("utf8");
      child.stderr?.on("data", (d: string) => {
        if (stderr.length < 500) stderr += d;
      });
      child.on("error", (e) => {
        // ENOENT/EACCES: no systemd-notify here. Do not try again for every message.
        broken = true;
        note(`sd_notify disabled: cannot start ${command}: ${e.message}`);
        done();
      });
      child.on("close", (code, signal) => {
        if (code !== 0 && !settled) note(`sd_notify: ${command} ${signal ? `killed by ${signal}` : `exited ${code}`}${stderr ? `: ${stderr.trim()}` : ""}`);
        done();
      });
      timer = setTimeout(() => {
        // A receiver that never reads (barrier) or a hung helper: give up, and stop trying.
        broken = true;
        note(`sd_notify disabled: ${command} did not finish within ${timeoutMs} ms`);
        child.kill("SIGKILL");
        done();
      }, timeoutMs);
      timer.unref();
    });
  };

  const send = (fields: Record<string, string>): Promise<void> => {
    if (!enabled || broken) return Promise.resolve();
    const args: string[] = [];
    for (const [k, v] of Object.entries(fields)) {
      if (!NAME.test(k)) {
        note(`sd_notify: ignored field name ${JSON.stringify(k)}`);
        continue;
      }
      // The protocol is one "K=V" per line: a value cannot hold a newline.
      args.push(`${k}=${String(v).replace(/[\r\n]+/g, " ")}`);
    }
    if (!args.length) return Promise.resolve();
    const next = queue.then(() => (broken ? undefined : run(args)));
    queue = next.catch(() => {});
    return queue;
  };

  const integer = (n: number) => String(Math.max(0, Math.round(Number.isFinite(n) ? n : 0)));

  return {
    enabled,
    send,
    status: (text) => send({ STATUS: text }),
    extendTimeout: (usec) => send({ EXTEND_TIMEOUT_USEC: integer(usec) }),
    errno: (n) => send({ ERRNO: integer(n) }),
    exitStatus: (code) => send({ EXIT_STATUS: integer(code) }),
  };
}
