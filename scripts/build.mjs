// Bundles src/ into dist/ with esbuild. The entry stays small; `run`'s network stage is a separate
// chunk loaded on demand, and the npm "dependencies" stay external (node_modules).
import { build } from "esbuild";
import ts from "typescript";
import { rm, chmod, readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));
const external = Object.keys(pkg.dependencies);
// yargs, a devDependency, is bundled (into its own lazily loaded chunk): `--help` needs no
// node_modules lookups, and an installed package does not carry yargs' tree.

// Help text that keeps words whole (issue 11, item 19). yargs' ESM entry gives cliui a line breaker
// that cuts words at the column ("c ontacted"); cliui's CommonJS entry uses wrap-ansi, which does
// not: bundle that one. And cliui 8 appends a right-aligned column ("[boolean]") to the line before
// when it fits exactly, with no space left ("config dir[boolean]"): it must need one column more.
const cliuiCjs = {
  name: "cliui-cjs",
  setup(b) {
    const file = fileURLToPath(new URL("../node_modules/cliui/build/index.cjs", import.meta.url));
    b.onResolve({ filter: /^cliui$/ }, () => ({ path: file }));
    b.onLoad({ filter: /cliui[\\/]build[\\/]index\.cjs$/ }, async (a) => {
      const src = await readFile(a.path, "utf8");
      const from = "if (leadingWhitespace < targetTextWidth) {";
      if (!src.includes(from)) throw new Error(`${a.path}: cliui changed, review the renderInline fix in scripts/build.mjs`);
      return { contents: src.replace(from, "if (leadingWhitespace <= targetTextWidth) {"), loader: "js" };
    });
  },
};

// Node's built-in modules through process.getBuiltinModule (Node 20.16+), not ESM imports: an
// `import … from "node:fs"` builds fs's ESM facade, which reads every export — also `fs.promises`,
// which loads the promises API, streams and readline. And an import of node:crypto or node:net
// loads it even when the pre-check never calls it. So fs and path (always needed) are read from the
// module at start; every other builtin is loaded at the first use of one of its exports. Measured
// with bench/precheck.mjs (figures in bench/RESULTS.md).
const EAGER_BUILTINS = new Set(["node:fs", "node:path"]);

// The names src/ imports from each builtin (`import { a, b as c } from "node:x"`). A lazy builtin's
// module exports exactly these, so esbuild refuses the build should a name be missing here, and
// nothing is copied at start (an object of getters for all ~80 exports of node:crypto, copied twice
// by esbuild's CommonJS interop, was ~2 ms of a pre-check on Node 24).
async function importedNames() {
  const { readdir } = await import("node:fs/promises");
  const names = new Map();
  const src = fileURLToPath(new URL("../src/", import.meta.url));
  for (const f of await readdir(src, { recursive: true })) {
    if (!f.endsWith(".ts")) continue;
    const text = await readFile(src + f, "utf8");
    for (const m of text.matchAll(/import\s+(type\s+)?\{([^}]*)\}\s*from\s*"(node:[^"]+)"/g)) {
      if (m[1]) continue;
      const set = names.get(m[3]) ?? new Set();
      for (const spec of m[2].split(",").map((x) => x.trim()).filter(Boolean)) if (!spec.startsWith("type ")) set.add(spec.split(/\s+as\s+/)[0]);
      names.set(m[3], set);
    }
  }
  return names;
}
const IMPORTED = await importedNames();

/** A lazy builtin as an ES module: each imported name forwards to the module, loaded at the first use. */
function lazyBuiltin(id) {
  const real = process.getBuiltinModule(id);
  const q = JSON.stringify(id);
  const lines = [`let mod;\nconst m = () => (mod ??= process.getBuiltinModule(${q}));`, "export default /* @__PURE__ */ new Proxy({}, { get: (_, k) => m()[k], has: (_, k) => k in m() });"];
  for (const n of [...(IMPORTED.get(id) ?? [])].sort()) {
    const v = real[n];
    if (typeof v === "function")
      // Calls, `new`, statics, instanceof and subclassing reach the real function.
      lines.push(`export const ${n} = /* @__PURE__ */ (() => { const p = new Proxy(function () {}, { apply: (_, t, a) => Reflect.apply(m().${n}, t, a), construct: (_, a, nt) => Reflect.construct(m().${n}, a, nt === p ? m().${n} : nt), get: (_, k) => m().${n}[k], has: (_, k) => k in m().${n} }); return p; })();`);
    // An object: its members, functions bound to it (fs.promises, webcrypto).
    else if (typeof v === "object" && v !== null) lines.push(`export const ${n} = /* @__PURE__ */ new Proxy({}, { get: (_, k) => { const o = m().${n}; const x = o[k]; return typeof x === "function" ? x.bind(o) : x; }, has: (_, k) => k in m().${n} });`);
    // null or a primitive (worker_threads' parentPort and workerData are null outside a worker): read
    // when the importing chunk loads — the module is loaded then.
    else lines.push(`export const ${n} = m().${n};`);
  }
  return lines.join("\n");
}

const builtinsLazy = {
  name: "builtins-lazy",
  setup(b) {
    // `await import("node:x")` (a lazy path already) stays Node's own: as a chunk it would split the core.
    b.onResolve({ filter: /^node:/ }, (a) => (a.kind === "dynamic-import" ? { path: a.path, external: true } : { path: a.path, namespace: "builtin" }));
    // fs and path: plain named exports read from the module (no copying at all; esbuild drops those
    // not imported); a getter such as fs.promises stays lazy behind a forwarding object.
    b.onLoad({ filter: /.*/, namespace: "builtin" }, (a) => {
      if (!EAGER_BUILTINS.has(a.path)) return { contents: lazyBuiltin(a.path), loader: "js" };
      const mod = process.getBuiltinModule(a.path);
      const names = Object.keys(mod).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== "default");
      const lines = [`const m = process.getBuiltinModule(${JSON.stringify(a.path)});`, "export default m;"];
      for (const n of names) {
        const lazy = typeof Object.getOwnPropertyDescriptor(mod, n)?.get === "function";
        lines.push(lazy ? `export const ${n} = /* @__PURE__ */ new Proxy({}, { get: (_, k) => m.${n}[k] });` : `export const ${n} = /* @__PURE__ */ (() => m.${n})();`);
      }
      return { contents: lines.join("\n"), loader: "js" };
    });
  },
};

const ENTRY = "src/acme-renew.ts";
// Worker threads' entries (`new URL("./x.js", import.meta.url)` from a chunk): built into chunks/ too.
const WORKERS = { "chunks/fanout-worker": "src/run/fanout-worker.ts" };
const common = {
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external,
  // The clock floor (src/util/build-info.ts). Reproducible builds (Nix) pin it with SOURCE_DATE_EPOCH.
  // __VERSION__: package.json's version for --version (src/util/build-info.ts).
  define: {
    __BUILD_TIME__: JSON.stringify(new Date(process.env.SOURCE_DATE_EPOCH ? Number(process.env.SOURCE_DATE_EPOCH) * 1000 : Date.now()).toISOString()),
    __VERSION__: JSON.stringify(pkg.version),
  },
  legalComments: "none",
  logLevel: "warning",
};

// One file for the offline path. Each ES module file costs the loader a resolve, a read, a compile
// and a link (on Node 24 ~1 ms and ~0.2 MiB apiece: 15 files were 15 ms). esbuild puts code that the
// entry and some lazily imported module share into chunks keyed by who shares it, so `check` used
// to load 14 files. Pass 1 finds the offline core (what cli/main.ts reaches by static imports: the
// entry imports main.ts once it has enabled the compile cache) and the lazily imported modules; pass 2 makes every lazily imported module use every export of the core,
// so that all of it is shared by the same set of entries and lands in one chunk. (Named imports, not
// `export * as`: namespace objects would cost the core ~400 getters at every start.)
const pass1 = await build({ ...common, entryPoints: [ENTRY], outdir: "dist.pass1", splitting: true, write: false, metafile: true, plugins: [cliuiCjs, builtinsLazy] });
const inputs = pass1.metafile.inputs;
const isOwn = (p) => p.startsWith("src/");
const OFFLINE_ROOT = "src/cli/main.ts";
const core = new Set();
for (const todo = [OFFLINE_ROOT]; todo.length; ) {
  const f = todo.pop();
  if (core.has(f)) continue;
  core.add(f);
  for (const i of inputs[f]?.imports ?? []) if (i.kind === "import-statement" && !i.external && isOwn(i.path)) todo.push(i.path);
}
const lazy = new Set(Object.values(inputs).flatMap((v) => v.imports.filter((i) => i.kind === "dynamic-import" && !i.external && isOwn(i.path)).map((i) => i.path)));
for (const w of Object.values(WORKERS)) lazy.add(w);
const abs = (p) => fileURLToPath(new URL(`../${p}`, import.meta.url));
// The runtime exports of each core module (types have none), from esbuild itself.
const exportsOf = await build({ entryPoints: [...core], outdir: "dist.exports", bundle: false, format: "esm", write: false, metafile: true, logLevel: "warning" });
const coreExports = Object.values(exportsOf.metafile.outputs).map((o) => ({ file: abs(o.entryPoint), names: o.exports }));
const useCore = [
  ...coreExports.filter((m) => m.names.length).map((m, i) => `import { ${m.names.map((n, j) => `${n} as __oc${i}_${j}`).join(", ")} } from ${JSON.stringify(m.file)};`),
  `export const __offlineCore = [${coreExports.filter((m) => m.names.length).flatMap((m, i) => m.names.map((_, j) => `__oc${i}_${j}`)).join(", ")}];`,
].join("\n");
const oneCoreChunk = {
  name: "one-core-chunk",
  setup(b) {
    const lazyAbs = new Set([...lazy].map(abs));
    b.onLoad({ filter: /\.ts$/ }, async (a) => {
      // main.ts is core and lazily imported (by the entry): it does not import itself.
      if (!lazyAbs.has(a.path) || a.path === abs(OFFLINE_ROOT)) return undefined;
      return { contents: `${await readFile(a.path, "utf8")}\n${useCore}\n`, loader: "ts" };
    });
  },
};

await rm(new URL("../dist", import.meta.url), { recursive: true, force: true });
const built = await build({
  ...common,
  // The program: cli/main.ts (the offline core, one chunk), the lazily loaded chunks, the workers.
  entryPoints: { "chunks/main": OFFLINE_ROOT, ...WORKERS },
  outdir: "dist",
  splitting: true,
  metafile: true,
  plugins: [cliuiCjs, builtinsLazy, oneCoreChunk],
  chunkNames: "chunks/[name]-[hash]",
  // `require` for bundled CommonJS (yargs, cliui), made at its first use: createRequire(import.meta.url)
  // at the top of every chunk cost the offline path 0.6 to 2.6 MiB of RSS on Node 24.
  banner: {
    js: "let __req; const __cr = () => (__req ??= process.getBuiltinModule('node:module').createRequire(import.meta.url)); const require = new Proxy(function () {}, { apply: (_, t, a) => __cr()(...a), get: (_, k) => __cr()[k] });",
  },
});

// chunks/main.js only re-exports the core chunk (main.ts's code is shared with every lazy chunk):
// the entry imports the core chunk itself, one file fewer to load.
const stubFile = new URL("../dist/chunks/main.js", import.meta.url);
const stub = await readFile(stubFile, "utf8");
const reexport = /^import \{\s*([\w\s,]+?)\s*\} from "\.\/(chunk-[A-Z0-9]+\.js)";\s*export \{\s*([\w\s,]+?)\s*\};\s*$/.exec(stub.slice(stub.indexOf("\n") + 1));
const names = (l) => l.split(",").map((x) => x.trim()).sort().join(",");
if (!reexport || names(reexport[1]) !== names(reexport[3]) || names(reexport[1]) !== "Logger,main") throw new Error(`scripts/build.mjs: dist/chunks/main.js is not a plain re-export of the core chunk any more:\n${stub}`);
await rm(stubFile);

// The core chunk's top-level functions compiled when the chunk is, not at their first call: V8 compiles
// a function lazily unless it is a parenthesized expression, and Node writes the compile cache right
// after compiling a module, so lazily compiled functions were compiled again by every run (~3 ms of a
// not-due `run`: 0.94× on Node 24 and 26, 1.02× on Node 20, which has no compile cache; bench/RESULTS.md).
// Each `function f` becomes `var f = (function f …)` at the chunk's top: still defined before any other
// code of the chunk runs, and nothing can call it sooner — the core chunk imports no chunk statically.
const coreFile = new URL(`../dist/chunks/${reexport[2]}`, import.meta.url);
// Modules off the startup path (plain files' own DER reading): their functions stay lazily compiled.
const LAZY_MODULES = ["src/inspect/cert-der.ts", "src/inspect/key-der.ts", "src/inspect/ec-curve.ts", "src/inspect/pem-strict.ts"];
await writeFile(coreFile, eagerFunctions(await readFile(coreFile, "utf8")));

function eagerFunctions(text) {
  const sf = ts.createSourceFile("core.js", text, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  if (sf.statements.some((st) => ts.isImportDeclaration(st))) throw new Error("scripts/build.mjs: the core chunk imports another chunk statically: moving its functions to the top is no longer safe");
  // Functions of modules off the startup path (plain files' own DER reading) stay lazy: compiled
  // only when called, they cost an installed certificate's check nothing.
  const sections = [...text.matchAll(/^\/\/ (src\/\S*\.ts)$/gm)].map((m) => ({ at: m.index, file: m[1] }));
  const sourceOf = (pos) => sections.findLast((s) => s.at < pos)?.file;
  const fns = sf.statements.filter((st) => ts.isFunctionDeclaration(st) && st.name && st.body && !LAZY_MODULES.includes(sourceOf(st.getStart(sf))));
  if (fns.length < 50) throw new Error(`scripts/build.mjs: only ${fns.length} top-level functions in the core chunk`);
  let rest = "";
  let at = 0;
  for (const f of fns) (rest += text.slice(at, f.getStart(sf))), (at = f.getEnd());
  // The banner's first line stays first.
  const nl = text.indexOf("\n") + 1;
  const top = fns.map((f) => `var ${f.name.text} = (${text.slice(f.getStart(sf), f.getEnd())});`).join("\n");
  return `${rest.slice(0, nl)}${top}\n${rest.slice(nl)}${text.slice(at)}`;
}

// The entry: enables the compile cache (src/cli/compile-cache.ts), then imports the program.
await build({
  ...common,
  entryPoints: { "acme-renew": ENTRY },
  outdir: "dist",
  plugins: [{ name: "entry", setup: (b) => b.onResolve({ filter: /\/cli\/main\.js$/ }, () => ({ path: `./chunks/${reexport[2]}`, external: true })) }],
});
await chmod(new URL("../dist/acme-renew.js", import.meta.url), 0o755);
