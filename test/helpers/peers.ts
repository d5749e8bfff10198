/**
 * Real state of other ACME clients, made by the clients themselves against a test Pebble: certbot 2.1
 * and lego 4.9.1 from Debian (installed by .ci/run). Every run is bounded in time.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import type { Pebble } from "./pebble.js";

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<string> {
  return new Promise((res, rej) =>
    execFile(cmd, args, { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      err ? rej(new Error(`${cmd} ${args.join(" ")}: ${err.message}\n${stdout}\n${stderr}`)) : res(stdout + stderr),
    ),
  );
}

export interface CertbotRun {
  /** certbot's --config-dir (what `import certbot DIR` reads). */
  configDir: string;
  names: string[];
  /** "standalone": certbot's own listener on Pebble's http-01 port; "webroot": files under this directory. */
  webroot?: string;
  keyType?: "ecdsa" | "rsa";
}

/** `certbot certonly` against Pebble; the lineage is named after the first name. */
export function certbotCertonly(pebble: Pebble, o: CertbotRun): Promise<string> {
  const auth = o.webroot ? ["--webroot", "-w", o.webroot] : ["--standalone", "--http-01-address", "127.0.0.1", "--http-01-port", String(pebble.httpPort)];
  return run(
    "certbot",
    [
      "certonly", "--non-interactive", "--agree-tos", "--register-unsafely-without-email", "--server", pebble.directoryUrl,
      ...auth, ...o.names.flatMap((n) => ["-d", n]),
      "--config-dir", o.configDir, "--work-dir", join(o.configDir, "..", "certbot-work"), "--logs-dir", join(o.configDir, "..", "certbot-logs"),
      "--key-type", o.keyType ?? "ecdsa",
    ],
    { REQUESTS_CA_BUNDLE: pebble.caBundle },
  );
}

/** `lego run` (http-01 on Pebble's port) with its state under `path` (lego's --path). */
export function legoRun(pebble: Pebble, o: { path: string; names: string[]; email: string; keyType?: string }): Promise<string> {
  return run(
    "lego",
    [
      "--server", pebble.directoryUrl, "--email", o.email, "--accept-tos", ...o.names.flatMap((n) => ["--domains", n]),
      "--http", "--http.port", `127.0.0.1:${pebble.httpPort}`, "--path", o.path, "--key-type", o.keyType ?? "ec256", "run",
    ],
    { LEGO_CA_CERTIFICATES: pebble.caBundle },
  );
}
