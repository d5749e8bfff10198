/**
 * Load on the CA: requests per issuance, counted in Pebble's own log (every request it handles is
 * one "-> calling handler()" line), for acme-renew and for lego (Debian's 4.9.1, the peer) on the
 * same Pebble: a first issuance (new account) and a renewal of the same 2-name http-01 certificate.
 * acme-renew must not need more requests than lego for either.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sandbox } from "../helpers/cli.js";
import { replaceableByPebble, startPebble, type Pebble } from "../helpers/pebble.js";

const NAMES = ["r.example.com", "www.r.example.com"];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The requests Pebble handled while `fn` ran (waits until its log is quiet: it arrives through a pipe). */
async function counted(p: Pebble, fn: () => Promise<void>): Promise<string[]> {
  const lines = () => p.log().split("\n").filter((l) => l.includes("-> calling handler()"));
  const settle = async () => {
    for (let n = lines().length, i = 0; i < 20; i++) {
      await sleep(150);
      if (lines().length === n) return;
      n = lines().length;
    }
  };
  await settle();
  const from = lines().length;
  await fn();
  await settle();
  return lines()
    .slice(from)
    .map((l) => l.replace(/^.*\d\d:\d\d:\d\d /, "").replace(" -> calling handler()", ""));
}

function lego(p: Pebble, dir: string, args: string[]): Promise<void> {
  const base = ["--server", p.directoryUrl, "--email", "peer@example.com", "--accept-tos", "--path", dir, ...NAMES.flatMap((n) => ["--domains", n]), "--http", "--http.port", `127.0.0.1:${p.httpPort}`];
  return new Promise((res, rej) =>
    execFile("lego", [...base, ...args], { env: { PATH: process.env.PATH, HOME: dir, LEGO_CA_CERTIFICATES: p.caBundle }, timeout: 180_000 }, (e, _o, stderr) =>
      e ? rej(new Error(`lego ${args.join(" ")}: ${e.message}\n${stderr}`)) : res(),
    ),
  );
}

describe("requests per issuance (Pebble's log)", { timeout: 400_000 }, () => {
  let pebble: Pebble;
  before(async () => {
    pebble = await startPebble();
  });
  after(async () => {
    await pebble?.stop();
  });

  test("acme-renew needs no more requests than lego for a first issuance and for a renewal", async () => {
    const s = sandbox();
    s.writeConfig(NAMES[0]!, { extraDomainNames: NAMES.slice(1), server: pebble.directoryUrl, caBundle: pebble.caBundle, email: "ops@example.com", acceptTerms: true, listenHTTP: `127.0.0.1:${pebble.httpPort}` });
    const ours = { first: [] as string[], renewal: [] as string[] };
    ours.first = await counted(pebble, async () => {
      const r = await s.cli(["run", NAMES[0]!]);
      assert.equal(r.code, 0, r.stderr);
    });
    // A renewal Pebble can match to its order (test/helpers/pebble.ts), or it costs a second newOrder.
    await replaceableByPebble(s, NAMES[0]!);
    ours.renewal = await counted(pebble, async () => {
      const r = await s.cli(["run", NAMES[0]!, "--force"]);
      assert.equal(r.code, 0, r.stderr);
    });
    const dir = mkdtempSync(join(tmpdir(), "acme-renew-lego-"));
    const peer = {
      first: await counted(pebble, () => lego(pebble, dir, ["run"])),
      renewal: await counted(pebble, () => lego(pebble, dir, ["renew", "--days", "3650", "--no-random-sleep"])),
    };
    const show = (l: string[]) => `${l.length}: ${l.join(", ")}`;
    process.stderr.write(`# requests, first issuance: acme-renew ${show(ours.first)}\n#   lego ${show(peer.first)}\n`);
    process.stderr.write(`# requests, renewal: acme-renew ${show(ours.renewal)}\n#   lego ${show(peer.renewal)}\n`);
    assert.ok(peer.first.length > 0 && peer.renewal.length > 0, "lego's requests were counted");
    assert.ok(ours.first.length <= peer.first.length, `first issuance: acme-renew ${show(ours.first)}; lego ${show(peer.first)}`);
    assert.ok(ours.renewal.length <= peer.renewal.length, `renewal: acme-renew ${show(ours.renewal)}; lego ${show(peer.renewal)}`);
    // What the count is made of: one directory fetch, one nonce, at most one account request.
    for (const l of [ours.first, ours.renewal]) {
      assert.equal(l.filter((x) => x === "GET /dir").length, 1, show(l));
      assert.equal(l.filter((x) => x.startsWith("HEAD /nonce")).length, 1, show(l));
    }
    assert.equal(ours.first.filter((x) => x.startsWith("POST /sign-me-up")).length, 1, show(ours.first));
    assert.equal(ours.renewal.filter((x) => x.startsWith("POST /sign-me-up")).length, 0, show(ours.renewal));
  });
});
