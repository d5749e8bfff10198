/**
 * `group` goes through NSS (getent), is checked by `validate` and before an order — never first
 * discovered after the CA issued. The NSS-only group comes from nss-systemd's drop-in records
 * (/run/userdb/<name>.group), visible only inside a private mount namespace with its own /run and
 * an nsswitch.conf saying `group: files systemd`: nothing on the host changes.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sandbox } from "../helpers/cli.js";
import { startPebble, type Pebble } from "../helpers/pebble.js";
import { baseConfig } from "../helpers/acme-fixtures.js";
import { writeCertDir } from "../helpers/pki.js";

const GROUP = "acmerenew-nss-only";
const GID = 61_234;

/** A wrapper running the CLI where GROUP exists only in NSS (not in /etc/group), or why it cannot be made. */
function nssOnlyGroup(root: string): { wrapper: string[] } | { why: string } {
  const nsswitch = join(root, "nsswitch.conf");
  writeFileSync(nsswitch, "passwd: files systemd\ngroup: files systemd\nhosts: files\n");
  const record = join(root, `${GROUP}.group`);
  writeFileSync(record, JSON.stringify({ groupName: GROUP, gid: GID }));
  const setup = `mount -t tmpfs acme-renew-test /run && mkdir /run/userdb && cp ${record} /run/userdb/ && mount --bind ${nsswitch} /etc/nsswitch.conf`;
  const wrapper = ["unshare", "-m", "--propagation", "private", "sh", "-c", `${setup} && exec "$@"`, "sh"];
  const probe = spawnSync(wrapper[0]!, [...wrapper.slice(1), "getent", "group", GROUP], { encoding: "utf8" });
  if (probe.status !== 0) return { why: `no NSS test source here (getent: ${probe.status}; ${probe.stderr.trim()})` };
  if (spawnSync("getent", ["group", GROUP]).status === 0) return { why: `${GROUP} exists on the host` };
  if (!probe.stdout.startsWith(`${GROUP}:x:${GID}:`)) return { why: `unexpected getent answer ${probe.stdout}` };
  return { wrapper };
}

describe("group through NSS", { timeout: 240_000 }, () => {
  let pebble: Pebble;
  before(async () => {
    pebble = await startPebble();
  });
  after(async () => {
    await pebble?.stop();
  });

  test("validate: an unknown group is a config error naming the file and the field", async () => {
    const s = sandbox();
    const file = s.writeConfig("g.example.com", { acceptTerms: true, listenHTTP: "127.0.0.1:5002", group: "no-such-group-zz" });
    s.writeConfig("ok.example.com", { acceptTerms: true, listenHTTP: "127.0.0.1:5002", group: "daemon" });
    const r = await s.cli(["validate"]);
    assert.equal(r.code, 78, r.stderr);
    assert.ok(r.stderr.includes(`config ${file}: group: group "no-such-group-zz" does not exist`), r.stderr);
    assert.doesNotMatch(r.stderr, /ok\.example\.com.*error/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    // Where the host's groups are not there (the NixOS module validates in the build sandbox).
    assert.equal((await s.cli(["validate", "--no-group-check"])).code, 0);
  });

  test("run: an unknown group stops the renewal before the CA is asked (no certificate issued and thrown away)", async () => {
    const s = sandbox();
    s.writeConfig("u.example.com", { ...baseConfig(pebble), listenHTTP: `127.0.0.1:${pebble.httpPort}`, group: "no-such-group-zz" });
    const r = await s.cli(["run", "u.example.com"]);
    assert.equal(r.code, 78, r.stderr);
    assert.match(r.stderr, /group: group "no-such-group-zz" does not exist/);
    assert.doesNotMatch(r.stderr, /renewing|newOrder|finalize|storing the new certificate/, "no order was placed");
    assert.deepEqual(readdirSync(join(s.stateDir)).filter((e) => e !== "accounts"), [], "nothing issued, nothing written but (at most) the account");
  });

  test("a group that only NSS knows (not /etc/group): validate accepts it, run chgrps the key to it", async (t) => {
    const s = sandbox();
    const nss = nssOnlyGroup(s.root);
    if ("why" in nss) return t.skip(nss.why);
    s.writeConfig("n.example.com", { ...baseConfig(pebble), listenHTTP: `127.0.0.1:${pebble.httpPort}`, group: GROUP });
    const v = await s.cli(["validate", "n.example.com"], { wrapper: nss.wrapper });
    assert.equal(v.code, 0, v.stderr);
    const r = await s.cli(["run", "n.example.com"], { wrapper: nss.wrapper });
    assert.equal(r.code, 0, r.stderr);
    const key = statSync(join(s.stateDir, "n.example.com", "key.pem"));
    assert.equal(key.gid, GID);
    assert.equal(key.mode & 0o777, 0o640);
  });
});

for (const cmd of ["check", "run"]) {
  test(`${cmd} of a valid cert with a group starts no program (no getent on the offline path; strace)`, async () => {
    const s = sandbox();
    s.writeConfig("a.example.com", { webroot: "/var/www", server: "https://127.0.0.1:1/dir", ari: false, group: "no-such-group-zz" });
    await writeCertDir(s.stateDir, "a.example.com", { names: ["a.example.com"] });
    const trace = join(s.root, "trace");
    const r = await s.cli([cmd, "a.example.com"], { wrapper: ["strace", "-f", "-qq", "-o", trace, "-e", "trace=execve"] });
    assert.equal(r.code, 0, r.stderr);
    const execs = readFileSync(trace, "utf8").split("\n").filter((l) => /execve\(/.test(l));
    assert.equal(execs.length, 1, `only node itself:\n${execs.join("\n")}`);
  });
}
