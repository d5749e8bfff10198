import { test } from "node:test";
import assert from "node:assert/strict";
import { Resolver } from "node:dns/promises";
import { readFileSync } from "node:fs";
import https from "node:https";
import { X509Certificate } from "node:crypto";
import { clearTxt, setTxt, startPebble } from "../helpers/pebble.js";

function getJson(url: string, ca: string): Promise<Record<string, unknown>> {
  return new Promise((res, rej) => {
    const req = https.get(url, { ca, timeout: 5_000, agent: false }, (r) => {
      let body = "";
      r.setEncoding("utf8");
      r.on("data", (d: string) => (body += d));
      r.on("end", () => {
        try {
          assert.equal(r.statusCode, 200, body);
          res(JSON.parse(body) as Record<string, unknown>);
        } catch (e) {
          rej(e);
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", rej);
  });
}

test("pebble: directory over HTTPS, ARI advertised, challtestsrv DNS answers TXT", { timeout: 120_000 }, async () => {
  const pebble = await startPebble();
  try {
    const ca = readFileSync(pebble.caBundle, "utf8");
    const dir = await getJson(pebble.directoryUrl, ca);
    assert.equal(typeof dir.newOrder, "string");
    assert.equal(typeof dir.renewalInfo, "string");
    assert.match(String(dir.newOrder), /^https:\/\/127\.0\.0\.1:\d+\//);

    const root = new X509Certificate(await pebble.rootPem());
    assert.equal(root.ca, true);

    const host = "_acme-challenge.a.example.com.";
    await setTxt(pebble, host, "token-value-1");
    const resolver = new Resolver({ timeout: 1_000, tries: 2 });
    resolver.setServers([`127.0.0.1:${pebble.dnsPort}`]);
    const txt = await resolver.resolveTxt(host);
    assert.deepEqual(txt.map((chunks) => chunks.join("")), ["token-value-1"]);

    await clearTxt(pebble, host);
    const after = await resolver.resolveTxt(host).catch(() => []);
    assert.deepEqual(after, []);

    assert.match(pebble.log(), /Listening on/);
  } finally {
    await pebble.stop();
  }
});
