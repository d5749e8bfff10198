/**
 * What the reliability scenarios share: one Pebble, one web server for http-01 through a shared
 * webroot (so scenarios can run concurrently without fighting over Pebble's validation port), and a
 * template state dir holding an acme-renew-managed certificate with two versions.
 */
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { accountFiles } from "../../src/acme/account-files.js";
import { serveWebroot } from "../helpers/acme-fixtures.js";
import { startPebble, type Pebble } from "../helpers/pebble.js";
import { copyCertDir, newSandbox, rcli, snapshotCert, type CertSnapshot, type Sandbox } from "../helpers/reliability.js";

export const NAME = "r.example.com";
export const EMAIL = "ops@example.com";

export interface Shared {
  pebble: Pebble;
  /** The webroot every http-01 scenario writes to; served on 127.0.0.1:pebble.httpPort. */
  www: string;
  web: Server;
  /** A state dir with NAME issued by Pebble and renewed once (two versions) and its account. */
  template: Sandbox;
}

let shared: Shared | null = null;

export function S(): Shared {
  if (!shared) throw new Error("reliability suite: shared setup did not run");
  return shared;
}

export async function startShared(): Promise<Shared> {
  const pebble = await startPebble();
  const www = mkdtempSync(join(tmpdir(), "acme-renew-rel-www-"));
  const web = await serveWebroot(www, pebble.httpPort);
  const template = newSandbox();
  template.writeConfig(NAME, { server: pebble.directoryUrl, caBundle: pebble.caBundle, email: EMAIL, acceptTerms: true, webroot: www, keepVersions: 100 });
  const a = await rcli(template, "setup", ["run", NAME]);
  assert.equal(a.code, 0, a.stderr);
  const b = await rcli(template, "setup", ["run", NAME, "--force"]);
  assert.equal(b.code, 0, b.stderr);
  shared = { pebble, www, web, template };
  return shared;
}

export async function stopShared(): Promise<void> {
  if (!shared) return;
  await new Promise((r) => shared!.web.close(r));
  await shared.pebble.stop();
  rmSync(shared.www, { recursive: true, force: true });
  shared = null;
}

const CHALLENGES = ["webroot", "listenHTTP", "listenTLS", "dnsHook", "dnsProvider"];

/**
 * A config for NAME against `server`: Pebble's CA bundle, keepVersions 100 (nothing is pruned, so any
 * missing version is a loss), keyType ec384 (the template certificate is ec256, so a copy of it is
 * due; what a renewal installs is not), and http-01 through the shared webroot unless `extra` sets a
 * challenge.
 */
export function cfg(server: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const hasChallenge = CHALLENGES.some((c) => c in extra);
  return {
    server,
    caBundle: S().pebble.caBundle,
    email: EMAIL,
    acceptTerms: true,
    keepVersions: 100,
    keyType: "ec384",
    ...(hasChallenge ? {} : { webroot: S().www }),
    ...extra,
  };
}

/**
 * `extra` plus a name never authorized before, for a scenario that needs the CA to run a challenge
 * (a hook's or a webroot's failure, a hook's environment). The template account holds valid
 * authorizations for NAME, and Pebble 2.6.0 reuses one 1 time in 100 even with PEBBLE_AUTHZREUSE=0
 * (wfe.go: `rand.Intn(100) > authzReusePercent`): then no challenge runs for NAME ("already
 * authorized") and such a scenario fails at random.
 */
export function withChallenge(extra: Record<string, unknown>): Record<string, unknown> {
  return { ...extra, extraDomainNames: [`c${randomBytes(6).toString("hex")}.${NAME}`] };
}

/**
 * A fresh sandbox holding a copy of the template certificate (two versions, valid, due under cfg()).
 * account "template" (default): the ACME account key that issued the certificate is set up for
 * `server` too (whole account, URL included, when `server` is Pebble's own directory URL), as on a
 * machine that renews its own certificate: the CA accepts `replaces`, and a run against Pebble directly
 * writes nothing but the lock, the new version and the state. "fresh": no account (see the scenario
 * replaces-refused-other-account).
 */
export function dueManaged(
  server: string,
  extra: Record<string, unknown> = {},
  o: { account?: "template" | "fresh"; stateDirReady?: Sandbox } = {},
): { s: Sandbox; before: CertSnapshot } {
  const s = o.stateDirReady ?? newSandbox();
  copyCertDir(S().template.stateDir, s.stateDir, NAME);
  if ((o.account ?? "template") === "template") useTemplateAccount(s, server);
  s.writeConfig(NAME, cfg(server, extra));
  return { s, before: snapshotCert(s.stateDir, NAME) };
}

/** Puts the template's account key where acme-renew looks for the account of (server, EMAIL). */
export function useTemplateAccount(s: Sandbox, server: string): void {
  const from = accountFiles(S().template.stateDir, S().pebble.directoryUrl, EMAIL);
  const to = accountFiles(s.stateDir, server, EMAIL);
  mkdirSync(to.dir, { recursive: true, mode: 0o700 });
  copyFileSync(from.key, to.key);
  if (server === S().pebble.directoryUrl) copyFileSync(from.meta, to.meta);
}

/** A directory under the sandbox (created). */
export function subdir(s: Sandbox, name: string): string {
  const d = join(s.root, name);
  if (!existsSync(d)) mkdirSync(d, { recursive: true });
  return d;
}
