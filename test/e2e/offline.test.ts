/** Proof that the pre-check (check, ready, run when not due) needs no network and never loads the ACME library. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DAY, makeLeaf, writeCertDir } from "../helpers/pki.js";
import { install } from "../../src/store/install.js";
import { certPaths } from "../../src/store/paths.js";
import { CLI, ROOT, sandbox } from "../helpers/cli.js";
import { DNS_PROVIDER_CODES } from "../../src/config/dns-providers.js";
import { spawnSync } from "node:child_process";

const NAMES = ["a.example.com"];
// The config points at a CA that would have to be contacted if anything tried. ARI is off here: this
// synthetic certificate has no stored ARI answer, which would be a reason to ask the CA (the ARI
// tests prove that a run inside the stored refresh period stays offline too).
const cfg = { webroot: "/var/www", server: "https://127.0.0.1:1/dir", ari: false };

/**
 * The bundle's chunks that hold the dns-01 code (esbuild marks each source file with a
 * `// src/…` comment): the DNS providers (exec included), client, TSIG, propagation check and the dns-01 solver.
 */
function dnsChunks(): string[] {
  const dir = join(ROOT, "dist/chunks");
  const chunks = readdirSync(dir).filter((f) => /\/\/ src\/(dns\/|challenges\/dns01\.ts)/.test(readFileSync(join(dir, f), "utf8")));
  assert.ok(chunks.length >= 10, `the dns-01 code is in chunks of its own (${chunks.join(", ")})`);
  assert.doesNotMatch(readFileSync(join(ROOT, "dist/acme-renew.js"), "utf8"), /\/\/ src\/dns\//, "and not in the entry");
  return chunks;
}

test("check with a pending.json (an issued certificate waiting to be installed) stays offline and loads no ACME library", async () => {
  const s = sandbox();
  s.writeConfig("a.example.com", cfg);
  await writeCertDir(s.stateDir, "a.example.com", { names: NAMES });
  const { key, cert, issuer } = await makeLeaf({ names: NAMES });
  writeFileSync(
    join(s.stateDir, "a.example.com", "pending.json"),
    JSON.stringify({ version: 1, keyPem: key.pem, certPem: cert.toString("pem"), chainPem: issuer!.cert.toString("pem"), server: cfg.server, profile: null, names: NAMES, at: new Date().toISOString() }),
    { mode: 0o600 },
  );
  const trace = join(s.root, "trace");
  const r = await s.cli(["check", "a.example.com"], { wrapper: ["strace", "-f", "-qq", "-o", trace, "-e", "trace=connect,socket,openat,open"] });
  assert.equal(r.code, 0, r.stderr);
  const lines = readFileSync(trace, "utf8").split("\n");
  assert.ok(lines.some((l) => /openat\(.*pending\.json/.test(l)), "the trace saw pending.json being read");
  assert.deepEqual(lines.filter((l) => /connect\(|socket\(AF_INET/.test(l)), []);
  assert.deepEqual(lines.filter((l) => /node_modules\/(acme-client|axios|@peculiar|systeminformation|execa)/.test(l)), []);
});

/** One valid certificate per DNS provider code (and alias), plus one with dnsHook, each with credentials it would have to read. */
async function everyProvider(s: ReturnType<typeof sandbox>): Promise<string[]> {
  const names: string[] = [];
  for (const code of [...Object.keys(DNS_PROVIDER_CODES), "dnsHook"]) {
    const name = `${code}.example.com`;
    const challenge = code === "dnsHook" ? { dnsHook: "/nonexistent/dns-hook" } : { dnsProvider: code };
    s.writeConfig(name, { ...cfg, webroot: undefined, ...challenge, environmentFile: `/nonexistent/${code}.env`, credentialFiles: { SOME_TOKEN_FILE: `/nonexistent/${code}.token` }, dnsResolver: "192.0.2.53" });
    await writeCertDir(s.stateDir, name, { names: [name] });
    names.push(name);
  }
  return names;
}

for (const cmd of ["check", "ready", "run"]) {
  test(`${cmd} --all of valid certs with every DNS provider (and dnsHook) loads none of the dns-01 code, reads no credentials (strace)`, async () => {
    const s = sandbox();
    const names = await everyProvider(s);
    const trace = join(s.root, "trace");
    const r = await s.cli([cmd, "--all"], { wrapper: ["strace", "-f", "-qq", "-o", trace, "-e", "trace=connect,socket,openat,open"] });
    assert.equal(r.code, 0, r.stderr);
    const lines = readFileSync(trace, "utf8").split("\n");
    for (const n of names) assert.ok(lines.some((l) => l.includes(`${n}/cert.pem`)), `the trace saw ${n}'s cert being read (the trace works)`);
    assert.deepEqual(lines.filter((l) => /connect\(|socket\(AF_INET/.test(l)), [], "no connect() and no inet socket");
    const chunks = dnsChunks();
    assert.deepEqual(lines.filter((l) => chunks.some((c) => l.includes(c))), [], "no dns-01 chunk opened");
    assert.deepEqual(lines.filter((l) => /\/nonexistent\//.test(l)), [], "no credentials read, no hook run");
  });

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

// The libraries the offline path must never load. @peculiar/x509 (and its reflect-metadata) too: the
// placeholder `ready` writes is made with node:crypto alone.
const LIBS = /node_modules\/(acme-client|axios|@peculiar|reflect-metadata|systeminformation|execa|yargs)/;

test("ready writing a placeholder (no certificate yet): no connect(), no inet socket, no ACME/x509/network library (strace)", async () => {
  const s = sandbox();
  s.writeConfig("a.example.com", cfg);
  const trace = join(s.root, "trace");
  const r = await s.cli(["ready", "a.example.com"], { wrapper: ["strace", "-f", "-qq", "-o", trace, "-e", "trace=connect,socket,openat,open,rename"] });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /wrote a self-signed placeholder/);
  const lines = readFileSync(trace, "utf8").split("\n");
  assert.ok(lines.some((l) => /rename\(.*versions\/\.tmp-/.test(l)), "the trace saw the version being written (the trace works)");
  assert.deepEqual(lines.filter((l) => /connect\(|socket\(AF_INET/.test(l)), [], "no connect() and no inet socket");
  assert.deepEqual(lines.filter((l) => LIBS.test(l)), [], "no ACME, x509 or network library loaded");
});

test("ready of a usable certificate costs what check costs: the same files opened", async () => {
  const s = sandbox();
  s.writeConfig("a.example.com", cfg);
  await writeCertDir(s.stateDir, "a.example.com", { names: NAMES });
  const opened = async (cmd: string) => {
    const trace = join(s.root, `trace-${cmd}`);
    const r = await s.cli([cmd, "a.example.com"], { wrapper: ["strace", "-f", "-qq", "-o", trace, "-e", "trace=openat"] });
    assert.equal(r.code, 0, r.stderr);
    // Paths, without the pid and the returned fd; node's own start-up files are the same for both.
    // /proc and /sys: what the runtime reads for itself, when it likes (Node 26's V8 platform reads
    // /sys/devices/system/cpu/… in one run and not in the next).
    return new Set(readFileSync(trace, "utf8").split("\n").map((l) => /openat\([^"]*"([^"]+)"/.exec(l)?.[1]).filter((p): p is string => !!p && !p.startsWith("/proc/") && !p.startsWith("/sys/")));
  };
  const check = await opened("check");
  const ready = await opened("ready");
  assert.deepEqual([...ready].filter((p) => !check.has(p)), [], "ready opens nothing check does not");
});

test("check and run on a terminal (a pty: the table, the status line) load no library and connect nowhere either (strace)", async () => {
  const s = sandbox();
  for (const n of ["a.example.com", "b.example.com"]) {
    s.writeConfig(n, cfg);
    await writeCertDir(s.stateDir, n, { names: [n] });
  }
  for (const cmd of ["check", "run"]) {
    const trace = join(s.root, `trace-pty-${cmd}`);
    const line = `exec strace -f -qq -o ${trace} -e trace=connect,socket,openat,open ${process.execPath} ${CLI} --config-dir ${s.configDir} --state-dir ${s.stateDir} ${cmd} --all`;
    const r = spawnSync("script", ["-qec", line, "/dev/null"], { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, r.stdout);
    assert.match(r.stdout, cmd === "check" ? /NAME\s.*STATUS/ : /\[0\/2\]/, "it was the terminal output");
    const lines = readFileSync(trace, "utf8").split("\n");
    assert.ok(lines.some((l) => /openat\(.*cert\.pem/.test(l)), "the trace saw the cert being read");
    assert.deepEqual(lines.filter((l) => /connect\(|socket\(AF_INET/.test(l)), [], "no connect() and no inet socket");
    assert.deepEqual(lines.filter((l) => LIBS.test(l)), [], "no ACME, x509, network or yargs library loaded");
  }
});

test("run of a valid cert in cluster mode (etcd configured) makes no connect(), opens no cluster chunk, reads neither key nor credential file (strace)", async () => {
  const s = sandbox();
  s.writeConfig("a.example.com", { ...cfg, cluster: { etcd: { endpoints: ["http://127.0.0.1:2379"], usernameFile: "/nonexistent/etcd-user", passwordFile: "/nonexistent/etcd-password" }, encryptionKeyFile: "/nonexistent/cluster.key" } });
  await writeCertDir(s.stateDir, "a.example.com", { names: NAMES });
  const clusterChunks = readdirSync(join(ROOT, "dist/chunks")).filter((f) => /\/\/ src\/(cluster\/|run\/cluster-flow\.ts)/.test(readFileSync(join(ROOT, "dist/chunks", f), "utf8")));
  assert.ok(clusterChunks.length >= 1, "the cluster code is in chunks of its own");
  assert.doesNotMatch(readFileSync(join(ROOT, "dist/acme-renew.js"), "utf8"), /\/\/ src\/cluster\//, "and not in the entry");
  for (const cmd of ["run", "check", "ready"]) {
    const trace = join(s.root, `trace-${cmd}`);
    const r = await s.cli([cmd, "a.example.com"], { wrapper: ["strace", "-f", "-qq", "-o", trace, "-e", "trace=connect,socket,openat,open"] });
    assert.equal(r.code, 0, r.stderr);
    const lines = readFileSync(trace, "utf8").split("\n");
    assert.ok(lines.some((l) => /openat\(.*cert\.pem/.test(l)), "the trace saw the cert being read (the trace works)");
    assert.deepEqual(lines.filter((l) => /connect\(|socket\(AF_INET/.test(l)), [], `${cmd}: no connect() and no inet socket`);
    assert.deepEqual(lines.filter((l) => clusterChunks.some((c) => l.includes(c))), [], `${cmd}: no cluster chunk opened`);
    assert.deepEqual(lines.filter((l) => /nonexistent\//.test(l)), [], `${cmd}: neither the key file nor the etcd credentials are read`);
  }
});

/** a.example.com installed the way a renewal installs it: a version directory with its facts record. */
async function installCert(s: ReturnType<typeof sandbox>, o: Parameters<typeof makeLeaf>[0] = { names: NAMES }) {
  const { key, cert, issuer } = await makeLeaf(o);
  const p = certPaths(s.stateDir, "a.example.com");
  await install(p, { keyPem: key.pem, certPem: cert.toString("pem"), chainPem: issuer!.cert.toString("pem") }, { keep: 3, group: null, now: new Date() });
  return { p, version: realpathSync(p.current) };
}

/** Runs `cmd` under strace with a preload that lists the builtin modules loaded; returns the opened paths and the modules. */
async function traced(s: ReturnType<typeof sandbox>, cmd: string, tag: string) {
  const trace = join(s.root, `trace-${tag}`);
  const mods = join(s.root, `modules-${tag}`);
  const preload = join(s.root, "modules.cjs");
  writeFileSync(preload, `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(mods)}, process.moduleLoadList.join("\\n")));\n`);
  const r = await s.cli([cmd, "a.example.com"], { wrapper: ["strace", "-f", "-qq", "-o", trace, "-e", "trace=connect,socket,openat,open"], env: { NODE_OPTIONS: `--require=${preload}` } });
  const lines = readFileSync(trace, "utf8").split("\n");
  return { r, lines, opened: lines.filter((l) => /open(at)?\(/.test(l)), modules: readFileSync(mods, "utf8").split("\n") };
}

for (const cmd of ["check", "ready", "run"]) {
  test(`${cmd} of a certificate acme-renew installed takes its facts record: no PEM file opened, node:crypto not loaded (strace)`, async () => {
    const s = sandbox();
    s.writeConfig("a.example.com", cfg);
    await installCert(s);
    const { r, lines, opened, modules } = await traced(s, cmd, cmd);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(opened.some((l) => l.includes(".facts.json")), "the trace saw the facts record being read (the trace works)");
    assert.deepEqual(opened.filter((l) => /\/(cert|key|chain|fullchain|full)\.pem"/.test(l)), [], "no PEM file opened");
    assert.deepEqual(modules.filter((m) => /^NativeModule (crypto|internal\/crypto\/)/.test(m)), [], "node:crypto not loaded");
    assert.deepEqual(lines.filter((l) => /connect\(|socket\(AF_INET/.test(l)), [], "no connect() and no inet socket");
    assert.deepEqual(lines.filter((l) => LIBS.test(l)), [], "no ACME, x509, network or yargs library loaded");
  });
}

test("a certificate changed after its install (stat identity differs) gets the full check, which reports the truth", async () => {
  const s = sandbox();
  s.writeConfig("a.example.com", cfg);
  const { version } = await installCert(s);
  // Replace the installed cert.pem in place by an expired certificate for another key.
  const { cert } = await makeLeaf({ names: NAMES, notBefore: new Date(Date.now() - 100 * DAY), notAfter: new Date(Date.now() - DAY) });
  writeFileSync(join(version, "cert.pem"), cert.toString("pem"));
  const { r, opened } = await traced(s, "check", "tampered");
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, /^a\.example\.com\t(expired|mismatch)\tNOT USABLE/m);
  assert.ok(opened.some((l) => /cert\.pem"/.test(l)), "the full check read cert.pem");
  // The same for a key replaced by another one: the pair is checked again, not taken from the record.
  const t = sandbox();
  t.writeConfig("a.example.com", cfg);
  const b = await installCert(t);
  writeFileSync(join(b.version, "key.pem"), (await makeLeaf({ names: NAMES })).key.pem);
  const k = await t.cli(["check", "a.example.com"]);
  assert.equal(k.code, 1, k.stdout);
  assert.match(k.stdout, /^a\.example\.com\tmismatch\tNOT USABLE/m);
});
