// Wildcard issuance through rfc2136 with the authoritative propagation check: acme-renew vs lego's
// `--dns rfc2136`, on the same BIND and the same Pebble, in alternating runs. Everything runs in a
// private network namespace (created here: `unshare -n -m`, loopback up) so that BIND serves the zone on
// 127.0.0.1:53 — the port both tools ask authoritative servers on — with no test seam for either.
// Prints a markdown section; bench/peers.mjs includes it (section 5). Alone: node bench/dns.mjs --runs 5
// Needs root, bind9, lego (Debian), a built tree (npm run build, npx tsc) and PEBBLE_BIN or provisioning.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { compare, table } from "./lib.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const CLI = join(ROOT, "dist/acme-renew.js");
const { values } = parseArgs({ options: { runs: { type: "string", default: "5" } } });
const RUNS = Number(values.runs);

if (!process.env.BENCH_DNS_IN_NETNS) {
  // A mount namespace too: /etc/resolv.conf names 127.0.0.1 there, where lego's Go resolver finds
  // the name servers' addresses (acme-renew asks its dnsResolver, the same BIND).
  const resolv = join(mkdtempSync(join(tmpdir(), "acme-renew-bench-resolv-")), "resolv.conf");
  writeFileSync(resolv, "nameserver 127.0.0.1\n");
  const r = spawnSync("unshare", ["-n", "-m", "sh", "-c", `ip link set lo up && mount --bind ${resolv} /etc/resolv.conf && exec "$0" "$@"`, process.execPath, import.meta.filename, "--runs", String(RUNS)], {
    env: { ...process.env, BENCH_DNS_IN_NETNS: "1" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  process.exit(r.status ?? 1);
}

const { startPebble } = await import(join(ROOT, "build/test/helpers/pebble.js"));
const { startBind, newKey, dig } = await import(join(ROOT, "build/test/helpers/dns-servers.js"));

const work = mkdtempSync(join(tmpdir(), "acme-renew-bench-dns-"));
const key = newKey("bench-key", "hmac-sha256");
const bind = await startBind({ address: "127.0.0.1", port: 53, keys: [key], zones: [{ name: "bench.test", records: ["@ NS ns1", "ns1 A 127.0.0.1"], updateKeys: [key.name] }] });
const pebble = await startPebble({ dnsServer: "127.0.0.1:53", env: { PEBBLE_VA_NOSLEEP: "1" } });
const version = (argv) => spawnSync(argv[0], argv.slice(1), { encoding: "utf8" }).stdout.trim().split("\n")[0];
const aptVersion = (pkg) => spawnSync("dpkg-query", ["-W", "-f=${Version}", pkg], { encoding: "utf8" }).stdout.trim();
try {
  const name = "wild.bench.test";
  const etc = join(work, "etc");
  const state = join(work, "state");
  const legoDir = join(work, "lego");
  for (const d of [etc, state, legoDir]) mkdirSync(d, { recursive: true });
  const vars = { RFC2136_NAMESERVER: "127.0.0.1:53", RFC2136_TSIG_KEY: key.name, RFC2136_TSIG_SECRET: key.secret, RFC2136_TSIG_ALGORITHM: "hmac-sha256." };
  writeFileSync(join(etc, "rfc2136.env"), Object.entries(vars).map(([k, v]) => `${k}=${v}\n`).join(""), { mode: 0o600 });
  writeFileSync(join(etc, `${name}.json`), JSON.stringify({ server: pebble.directoryUrl, caBundle: pebble.caBundle, acceptTerms: true, email: "bench@example.com", extraDomainNames: [`*.${name}`], dnsProvider: "rfc2136", environmentFile: join(etc, "rfc2136.env"), dnsResolver: "127.0.0.1", ari: false }));
  const lego = (extra) => ({
    argv: ["lego", "--server", pebble.directoryUrl, "--email", "bench@example.com", "--accept-tos", "--path", legoDir, "--domains", name, "--domains", `*.${name}`, "--dns", "rfc2136", "--dns.resolvers", "127.0.0.1:53", "run"],
    env: { ...process.env, ...vars, ...extra, LEGO_CA_CERTIFICATES: pebble.caBundle },
  });
  const acme = { argv: [process.execPath, CLI, "--config-dir", etc, "--state-dir", state, "run", name, "--force"] };
  // One issuance each first (accounts registered, everything warm), checked.
  for (const [what, cmd] of [["acme-renew", acme], ["lego", lego({ RFC2136_SEQUENCE_INTERVAL: "1" })]]) {
    const r = spawnSync(cmd.argv[0], cmd.argv.slice(1), { env: cmd.env ?? process.env, encoding: "utf8", timeout: 300_000 });
    if (r.status !== 0) throw new Error(`${what} first issuance failed (${r.status}):\n${r.stderr}`);
  }
  if ((await dig({ address: "127.0.0.1", port: 53 }, `_acme-challenge.${name}`, "TXT")).length) throw new Error("a TXT record was left behind");
  const rows = await compare(
    [
      { name: "lego run --dns rfc2136 (lego's defaults)", ...lego({}) },
      { name: "lego run --dns rfc2136, RFC2136_SEQUENCE_INTERVAL=1 RFC2136_POLLING_INTERVAL=1", ...lego({ RFC2136_SEQUENCE_INTERVAL: "1", RFC2136_POLLING_INTERVAL: "1" }) },
      { name: "acme-renew run --force (rfc2136, authoritative check)", ...acme },
    ],
    RUNS,
  );
  const out = [];
  out.push(`## 6. Wildcard issuance through rfc2136 + authoritative propagation check (${RUNS} alternating runs)`);
  out.push("");
  out.push(`\`${name}\` + \`*.${name}\` (two authorizations, one TXT name), TSIG hmac-sha256, BIND ${version(["named", "-v"]).split(" ")[1]} on 127.0.0.1:53 in a private network namespace, Pebble 2.6.0 resolving through it, lego ${aptVersion("lego")}. Both tools check every authoritative server (lego: its default check; acme-renew: its own). lego's rfc2136 provider is "sequential": it solves the two authorizations one after the other, \`RFC2136_SEQUENCE_INTERVAL\` (60 s by default) apart, polling every \`RFC2136_POLLING_INTERVAL\` (2 s); acme-renew sets both values side by side and polls from 250 ms.`);
  out.push("");
  out.push(table(rows, "lego run --dns rfc2136 (lego's defaults)"));
  const a = rows.find((r) => r.name.startsWith("acme-renew"));
  const tuned = rows.find((r) => r.name.includes("SEQUENCE_INTERVAL=1"));
  out.push("");
  out.push(`acme-renew / lego (tuned for speed): ${(a.medianMs / tuned.medianMs).toFixed(2)}×.`);
  console.log(out.join("\n"));
} finally {
  await pebble.stop();
  await bind.stop();
}
