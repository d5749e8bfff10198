/**
 * Config fuzzing with fast-check: random JSON, and random mutations of valid configs (and of
 * defaults.json), several files per case. For every case: `validate` exits 0 or 78, `check --all` never
 * crashes (0, 1 or 78), nothing prints a stack trace, and every problem is exactly one log line that
 * names the file. Seeded (RELIABILITY_FC_SEED) and bounded in time.
 */
import assert from "node:assert/strict";
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { FIELDS } from "../../src/config/fields.js";
import type { CliResult } from "../helpers/cli.js";
import { writeCertDir } from "../helpers/pki.js";
import { assertCleanOutput, newSandbox, rcli, type Sandbox } from "../helpers/reliability.js";
import { scenario } from "./faults.js";

const FILES = 6;
const NAMES = Array.from({ length: FILES }, (_, i) => `c${i}.example.com`);
const LEVEL = /^(error|warning|notice|info|debug): /;
const FIELD_NAMES = Object.keys(FIELDS);


/** A sandbox per fuzz test (they run concurrently), with real certificates on disk for `check` to judge. */
async function box(): Promise<Sandbox> {
  const s = newSandbox();
  for (const n of NAMES) await writeCertDir(s.stateDir, n, { names: [n] });
  return s;
}

function writeCase(s: Sandbox, texts: string[], defaults: string | null): void {
  for (const f of readdirSync(s.configDir)) rmSync(join(s.configDir, f), { force: true });
  texts.forEach((t, i) => writeFileSync(join(s.configDir, `${NAMES[i]}.json`), t));
  if (defaults !== null) writeFileSync(join(s.configDir, "defaults.json"), defaults);
}

/** One line per event, exactly one per certificate, problems naming their file. Returns the names with config errors. */
function perName(s: Sandbox, r: CliResult, what: string): Set<string> {
  assertCleanOutput(r, what);
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  for (const l of lines) assert.match(l, LEVEL, `${what}: every stderr line is one log event: ${JSON.stringify(l)}`);
  const errors = new Set<string>();
  for (const n of NAMES) {
    const mine = lines.filter((l) => l.replace(LEVEL, "").startsWith(`${n}: `));
    assert.equal(mine.length, 1, `${what}: exactly one line for ${n}:\n${r.stderr}`);
    const line = mine[0]!;
    if (/event=config-error/.test(line)) {
      errors.add(n);
      const own = `config ${join(s.configDir, `${n}.json`)}: `;
      const defaults = `config ${join(s.configDir, "defaults.json")}: `;
      assert.ok(line.includes(own) || line.includes(defaults), `${what}: the error names the file: ${line}`);
    }
  }
  return errors;
}

/** What the generated cases covered (reported as a diagnostic, so a generator that only makes junk shows). */
export const fuzzStats: Record<string, { cases: number; configsOk: number; configsWrong: number; checkExit: Record<string, number> }> = {};

async function runCase(s: Sandbox, label: string, texts: string[], defaults: string | null): Promise<void> {
  const st = (fuzzStats[label] ??= { cases: 0, configsOk: 0, configsWrong: 0, checkExit: {} });
  writeCase(s, texts, defaults);
  const v = await rcli(s, label, ["validate"]);
  assert.ok(v.code === 0 || v.code === 78, `validate exits 0 or 78, got ${v.code}\n${v.stderr}`);
  const vErr = perName(s, v, "validate");
  assert.equal(v.code, vErr.size ? 78 : 0, "validate: 78 exactly when a file is wrong");
  const c = await rcli(s, label, ["check", "--all"]);
  assert.ok(c.code === 0 || c.code === 1 || c.code === 78, `check exits 0, 1 or 78, got ${c.code}\n${c.stderr}`);
  const cErr = perName(s, c, "check");
  // validate also says when the CA's terms are not accepted (registering would fail); the offline
  // pre-check never needs them. Otherwise the two agree on which configs are wrong.
  const terms = new Set([...vErr].filter((n) => v.stderr.split("\n").some((l) => l.includes(`${n}: config `) && /acceptTerms: not set/.test(l))));
  assert.deepEqual([...cErr].sort(), [...vErr].filter((n) => !terms.has(n)).sort(), "check and validate agree on which configs are wrong");
  for (const n of terms) assert.ok(!cErr.has(n));
  if (cErr.size) assert.equal(c.code, 78);
  st.cases++;
  st.configsWrong += vErr.size;
  st.configsOk += FILES - vErr.size;
  st.checkExit[String(c.code)] = (st.checkExit[String(c.code)] ?? 0) + 1;
}

// ---------------------------------------------------------------------------------------
// Generators

const json = fc.jsonValue({ maxDepth: 2 });
const anyKey = fc.oneof(fc.constantFrom(...FIELD_NAMES, "$schema", "$comment"), fc.string({ maxLength: 12 }));
const randomText = fc.oneof(
  { weight: 5, arbitrary: fc.dictionary(anyKey, json, { maxKeys: 6 }).map((o) => JSON.stringify(o)) },
  { weight: 2, arbitrary: json.map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);

const BASES: Array<Record<string, unknown>> = [
  { webroot: "/var/www/acme" },
  { listenHTTP: ":80", extraDomainNames: ["www.example.net"], keyType: "rsa2048" },
  { listenTLS: "[::1]:443", keyType: "ec384", reuseKey: true, validMinDays: 30 },
  { dnsHook: "/usr/local/bin/dns-hook", dnsResolver: "127.0.0.1:53", dnsPropagationTimeout: 60, extraDomainNames: ["*.wild.example.net"] },
  {
    webroot: "/srv/www",
    email: "ops@example.net",
    server: "https://acme.example.org/directory",
    caBundle: "/etc/ssl/ca.pem",
    reloadServices: ["nginx.service"],
    postRun: "true",
    group: "www-data",
    profile: "tlsserver",
    preferredChain: "ISRG Root X1",
    eab: { kid: "kid-1", hmacKeyFile: "/etc/acme-renew/eab.key" },
    ari: false,
    placeholder: false,
    keepVersions: 5,
    timeout: 60,
    hookTimeout: 10,
  },
  { $schema: "../schema.json", inheritDefaults: false, listenHTTP: "127.0.0.1:8080", validMinDays: null },
];
const DEFAULTS_BASE = { email: "ops@example.com", reloadServices: ["nginx.service"], webroot: "/var/www/default" };

const edgeValue = fc.constantFrom<unknown>(
  "", " ", "x".repeat(3000), "relative/path", "/", "\u00e9xample.com", "*.", "a..b", ":0", ":65536", "[::1]:443",
  "http://plain.example", "https://", "-x.service", "EC256", "ec256 ", 0, -1, 1.5, 1e308, -0, 3651, 101, null, true, [], {}, ["a", 1], { kid: 1 },
);
const value = fc.oneof({ weight: 2, arbitrary: edgeValue }, { weight: 1, arbitrary: json });

/** Values a field accepts: mutations that keep a config valid, so `check` also judges valid configs. */
const VALID: Record<string, unknown[]> = {
  keyType: ["ec256", "ec384", "rsa2048"],
  reuseKey: [true, false],
  validMinDays: [null, 0, 1, 30, 3650],
  extraDomainNames: [[], ["www.example.net"], ["a.example.net", "xn--bcher-kva.example"]],
  email: ["a@b.example"],
  keepVersions: [1, 3, 100],
  timeout: [10, 86400],
  hookTimeout: [1, 3600],
  ari: [true, false],
  placeholder: [true, false],
  reloadServices: [[], ["nginx.service", "postfix@main.service"]],
  profile: ["shortlived"],
  $comment: ["anything"],
};
const VALID_KEYS = Object.keys(VALID);

type Mut =
  | { op: "valid"; key: string; i: number }
  | { op: "delete"; i: number }
  | { op: "set"; key: string; value: unknown }
  | { op: "unknown"; key: string; value: unknown }
  | { op: "second-challenge"; key: string }
  | { op: "replace"; value: unknown };
const mut: fc.Arbitrary<Mut> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant("valid" as const), key: fc.constantFrom(...VALID_KEYS), i: fc.nat() }) },
  fc.record({ op: fc.constant("delete" as const), i: fc.nat() }),
  { weight: 2, arbitrary: fc.record({ op: fc.constant("set" as const), key: fc.constantFrom(...FIELD_NAMES), value }) },
  fc.record({ op: fc.constant("unknown" as const), key: fc.string({ minLength: 1, maxLength: 12 }), value }),
  fc.record({ op: fc.constant("second-challenge" as const), key: fc.constantFrom("webroot", "listenHTTP", "listenTLS", "dnsHook") }),
  fc.record({ op: fc.constant("replace" as const), value: fc.constantFrom<unknown>(null, [], 42, "config", [{ webroot: "/x" }]) }),
);
type TextMut = { op: "none" } | { op: "truncate"; at: number } | { op: "insert"; at: number; ch: string } | { op: "bom" } | { op: "trailing-comma" } | { op: "empty" } | { op: "duplicate-key" };
const textMut: fc.Arbitrary<TextMut> = fc.oneof(
  { weight: 16, arbitrary: fc.constant({ op: "none" as const }) },
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("insert" as const), at: fc.nat(), ch: fc.constantFrom("{", "}", '"', ",", ":", "\\", "]", "x", "0") }),
  fc.constant({ op: "bom" as const }),
  fc.constant({ op: "trailing-comma" as const }),
  fc.constant({ op: "empty" as const }),
  fc.constant({ op: "duplicate-key" as const }),
);

function applyMuts(base: Record<string, unknown>, muts: Mut[]): unknown {
  let o: unknown = structuredClone(base);
  for (const m of muts) {
    if (typeof o !== "object" || o === null || Array.isArray(o)) break;
    const r = o as Record<string, unknown>;
    switch (m.op) {
      case "valid": {
        const vs = VALID[m.key]!;
        r[m.key] = structuredClone(vs[m.i % vs.length]);
        break;
      }
      case "delete": {
        const ks = Object.keys(r);
        if (ks.length) delete r[ks[m.i % ks.length]!];
        break;
      }
      case "set":
      case "unknown":
        Object.defineProperty(r, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
        break;
      case "second-challenge":
        r[m.key] = m.key === "webroot" || m.key === "dnsHook" ? "/srv/second" : ":8443";
        break;
      case "replace":
        o = m.value;
        break;
    }
  }
  return o;
}

function applyText(text: string, m: TextMut): string {
  switch (m.op) {
    case "none":
      return text;
    case "truncate":
      return text.slice(0, m.at % (text.length + 1));
    case "insert": {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + m.ch + text.slice(at);
    }
    case "bom":
      return `\ufeff${text}`;
    case "trailing-comma":
      return text.replace(/}\s*$/, ",}");
    case "empty":
      return "";
    case "duplicate-key":
      return text.replace(/}\s*$/, ',"keyType":"ec256","keyType":5}');
  }
}

const mutatedFile = fc
  .record({ base: fc.nat({ max: BASES.length - 1 }), muts: fc.array(mut, { minLength: 0, maxLength: 3 }), text: textMut })
  .map(({ base, muts, text }) => applyText(JSON.stringify(applyMuts(BASES[base]!, muts)) ?? "null", text));
const mutatedDefaults: fc.Arbitrary<string | null> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.constant(JSON.stringify(DEFAULTS_BASE)) },
  { weight: 1, arbitrary: fc.record({ muts: fc.array(mut, { minLength: 1, maxLength: 2 }), text: textMut }).map(({ muts, text }) => applyText(JSON.stringify(applyMuts(DEFAULTS_BASE, muts)) ?? "null", text)) },
);

function fcParams(seedOffset: number) {
  const seed = Number(process.env.RELIABILITY_FC_SEED ?? 4242) + seedOffset;
  const numRuns = Number(process.env.RELIABILITY_FC_RUNS ?? 20);
  // Bounded: runs and shrinking stop after the time limit (what was found so far is reported).
  return { seed, numRuns, interruptAfterTimeLimit: 90_000, markInterruptAsFailure: false };
}

export function registerFuzz(): void {
  scenario("config-fuzz-random-json", 180_000, async (t) => {
    const p = fcParams(0);
    const s = await box();
    t.diagnostic(`fast-check seed ${p.seed}, ${p.numRuns} runs × ${FILES} files`);
    await fc.assert(
      fc.asyncProperty(fc.array(randomText, { minLength: FILES, maxLength: FILES }), fc.option(randomText, { nil: null }), (texts, defaults) =>
        runCase(s, "config-fuzz-random-json", texts, defaults),
      ),
      p,
    );
    t.diagnostic(`config-fuzz-random-json coverage: ${JSON.stringify(fuzzStats["config-fuzz-random-json"])}`);
  });

  scenario("config-fuzz-mutations", 180_000, async (t) => {
    const p = fcParams(1);
    const s = await box();
    t.diagnostic(`fast-check seed ${p.seed}, ${p.numRuns} runs × ${FILES} files`);
    await fc.assert(
      fc.asyncProperty(fc.array(mutatedFile, { minLength: FILES, maxLength: FILES }), mutatedDefaults, (texts, defaults) =>
        runCase(s, "config-fuzz-mutations", texts, defaults),
      ),
      p,
    );
    t.diagnostic(`config-fuzz-mutations coverage: ${JSON.stringify(fuzzStats["config-fuzz-mutations"])}`);
  });

  scenario(
    "config-hostile-keys",
    60_000,
    async () => {
      const cases = [
        { listenHTTP: ":80", constructor: 1 },
        JSON.parse('{"listenHTTP": ":80", "__proto__": {"webroot": "/x"}}') as Record<string, unknown>,
        { listenHTTP: ":80", toString: "x" },
        { listenHTTP: ":80", eab: { kid: "k", hmacKeyFile: "/k", hasOwnProperty: 1 } },
        { listenHTTP: ":80", "x\nerror: c9.example.com: forged line [event=renewed]": 1 },
        { listenHTTP: ":80", "k\r\u001b[2Jey": 1 },
      ];
      const s = await box();
      writeCase(s, cases.map((c) => JSON.stringify(c)), null);
      const v = await rcli(s, "config-hostile-keys", ["validate"]);
      const c = await rcli(s, "config-hostile-keys", ["check", "--all"]);
      for (const r of [v, c]) assert.doesNotMatch(r.stderr, /[\x00-\x09\x0b-\x1f]/, "no control characters in the log");
      const vErr = perName(s, v, "validate");
      perName(s, c, "check");
      assert.deepEqual([...vErr].sort(), NAMES.slice(0, cases.length).sort(), "every unknown key is an error");
    },
  );
}
