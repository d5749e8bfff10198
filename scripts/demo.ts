/**
 * `npm run demo`: the main job end to end on this machine, with a local CA.
 * Provisions Pebble (Debian's pebble 2.6.0), issues a certificate for a demo name, shows `check`,
 * stops the CA, and shows that `run` still exits cleanly because the certificate is valid.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startPebble } from "../test/helpers/pebble.js";

const ROOT = resolve(import.meta.dirname, "../..");
const CLI = join(ROOT, "dist/acme-renew.js");
const NAME = "demo.acme-renew.test";

const work = mkdtempSync(join(tmpdir(), "acme-renew-demo-"));
const configDir = join(work, "etc");
const stateDir = join(work, "state");
mkdirSync(configDir);

function step(title: string, args: string[]): number {
  process.stdout.write(`\n\x1b[1m$ acme-renew ${args.join(" ")}\x1b[0m   # ${title}\n`);
  const r = spawnSync(process.execPath, [CLI, "--config-dir", configDir, "--state-dir", stateDir, "--log-format", "text", ...args], { stdio: "inherit" });
  process.stdout.write(`→ exit code ${r.status}\n`);
  return r.status ?? -1;
}

const pebble = await startPebble();
process.stdout.write(`Local ACME CA (Pebble) at ${pebble.directoryUrl}; work dir ${work}\n`);
const caBundle = join(work, "ca.pem");
copyFileSync(pebble.caBundle, caBundle);
const config = { server: pebble.directoryUrl, caBundle, email: "demo@example.com", acceptTerms: true, listenHTTP: `127.0.0.1:${pebble.httpPort}`, extraDomainNames: [`www.${NAME}`] };
writeFileSync(join(configDir, `${NAME}.json`), `${JSON.stringify(config, null, 2)}\n`);
process.stdout.write(`\nConfig ${join(configDir, `${NAME}.json`)}:\n${JSON.stringify(config, null, 2)}\n`);

const codes: number[] = [];
codes.push(step("no certificate yet: obtains one from the CA", ["run", NAME]));
codes.push(step("offline pre-check", ["check", NAME]));
await pebble.stop();
process.stdout.write("\nThe CA is stopped now (as if the network were down at boot).\n");
codes.push(step("certificate valid and not due: exit 0 without touching the network", ["run", NAME]));
const forced = step("forced renewal with the CA down: soft failure, the valid certificate stays", ["run", NAME, "--force", "--timeout", "20"]);
codes.push(step("still usable", ["check", NAME]));
process.stdout.write(`\nSummary: run → ${codes[0]}, check → ${codes[1]}, run (CA down, not due) → ${codes[2]}, run --force (CA down) → ${forced} (75 = renewal failed, certificate still valid), check → ${codes[3]}\n`);
process.exit(codes.every((c) => c === 0) && forced === 75 ? 0 : 1);
