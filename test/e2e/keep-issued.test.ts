/**
 * Item 2 of issue 11: a certificate the CA issued is never thrown away. A run killed while it
 * installs leaves the issued key and certificate in pending.json, and the next run installs them
 * without a new order. Real Pebble behind a counting proxy, built CLI. (A local failure at install
 * — a read-only versions/ — is the reliability scenario `issued-kept-install-fails`.)
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { sandbox } from "../helpers/cli.js";
import { startPebble, type Pebble } from "../helpers/pebble.js";
import { startFaultProxy, pass, type FaultProxy } from "../helpers/fault-proxy.js";
import { rcliKillOnEvent } from "../helpers/reliability.js";

const NAME = "keep.example.com";

describe("issued certificates are kept", { timeout: 300_000 }, () => {
  let pebble: Pebble;
  let proxy: FaultProxy;
  before(async () => {
    pebble = await startPebble();
    proxy = await startFaultProxy(pebble);
    proxy.setRule(pass);
  });
  after(async () => {
    await proxy?.close();
    await pebble?.stop();
  });

  const orders = () => proxy.count((l) => l.startsWith("POST /order-plz"));

  test("killed while installing the first certificate: the next run installs the issued one, no new order", async () => {
    // The kill lands after the version directory appears and before `current` is swapped: retried
    // (fresh sandbox) in the rare case the install outran SIGKILL.
    for (let attempt = 1; ; attempt++) {
      const s = sandbox();
      s.writeConfig(NAME, { server: proxy.directoryUrl, caBundle: pebble.caBundle, acceptTerms: true, listenHTTP: `127.0.0.1:${pebble.httpPort}` });
      const dir = join(s.stateDir, NAME);
      mkdirSync(join(dir, "versions"), { recursive: true });
      const before = orders();
      const k = await rcliKillOnEvent(s, "keep-issued", ["run", NAME], { watchDir: join(dir, "versions"), match: (e) => e.startsWith(".tmp-"), delayMs: 0, timeoutMs: 60_000 });
      assert.ok(k.triggered, `the run got as far as installing\n${k.stderr}`);
      assert.equal(k.code, null, "killed");
      assert.equal(orders() - before, 1, "one order");
      if (existsSync(join(dir, "current"))) {
        assert.ok(attempt < 3, "the install finished before SIGKILL three times in a row");
        continue;
      }
      // What the CA issued is on disk, readable only by us.
      const pending = join(dir, "pending.json");
      assert.ok(existsSync(pending), "pending.json kept");
      assert.equal(statSync(pending).mode & 0o777, 0o600);
      const kept = JSON.parse(readFileSync(pending, "utf8"));
      const issued = new X509Certificate(kept.certPem);
      assert.ok(issued.checkPrivateKey(createPrivateKey(kept.keyPem)));

      const r = await s.cli(["run", NAME]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /installing the certificate the CA issued at .* no new order/);
      assert.equal(orders() - before, 1, "no second order");
      assert.equal(new X509Certificate(readFileSync(join(dir, "cert.pem"))).serialNumber, issued.serialNumber, "the kept certificate is the one installed");
      assert.ok(!existsSync(pending), "pending.json removed once installed");
      const c = JSON.parse((await s.cli(["check", NAME, "--json"])).stdout)[0];
      assert.equal(c.status, "valid");
      return;
    }
  });
});
