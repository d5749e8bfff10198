/** Proof that the pre-check needs no network and never loads the ACME library. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeCertDir } from "../helpers/pki.js";
import { sandbox } from "../helpers/cli.js";

const NAMES = ["a.example.com"];
// The config points at a CA that would have to be contacted if anything tried. ARI is off here: this
// synthetic certificate has no stored ARI answer, which would be a reason to ask the CA (the ARI
// tests prove that a run inside the stored refresh period stays offline too).
const cfg = { webroot: "/var/www", server: "https://127.0.0.1:1/dir", ari: false };

for (const cmd of ["check", "run"]) {
  test(`${cmd} of a valid cert works without any network (unshare -n)`, async () => {
    const s = sandbox();
    s.writeConfig("a.example.com", cfg);
    await writeCertDir(s.stateDir, "a.example.com", { names: NAMES });
    const r = await s.cli([cmd, "a.example.com"], { wrapper: ["unshare", "-n"] });
    assert.equal(r.code, 0, r.stderr);
  });

  test(`${cmd} of a valid cert makes no connect() and opens nothing of acme-client (strace)`, async () => {
    const s = sandbox();
    s.writeConfig("a.example.com", cfg);
    await writeCertDir(s.stateDir, "a.example.com", { names: NAMES });
    const trace = join(s.root, "trace");
    const r = await s.cli([cmd, "a.example.com"], { wrapper: ["strace", "-f", "-qq", "-o", trace, "-e", "trace=connect,socket,openat,open"] });
    assert.equal(r.code, 0, r.stderr);
    const lines = readFileSync(trace, "utf8").split("\n");
    assert.ok(lines.some((l) => /openat\(.*cert\.pem/.test(l)), "the trace saw the cert being read (the trace works)");
    assert.deepEqual(lines.filter((l) => /connect\(|socket\(AF_INET/.test(l)), [], "no connect() and no inet socket");
    assert.deepEqual(lines.filter((l) => /node_modules\/(acme-client|axios|@peculiar|systeminformation|execa)/.test(l)), [], "no ACME or network library loaded");
  });
}
