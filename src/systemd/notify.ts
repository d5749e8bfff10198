/**
 * sd_notify(3) for acme-renew@.service (STATUS=, EXTEND_TIMEOUT_USEC=, ERRNO=, EXIT_STATUS=) through
 * the systemd-notify(1) binary, one short-lived child per message (hence NotifyAccess=all). A no-op
 * without NOTIFY_SOCKET; never throws; each message bounded by `timeoutMs`; a missing or broken
 * helper turns it into a no-op with one debug note. Why a helper and not a native socket:
 * systemd/README.md, "sd_notify".
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
