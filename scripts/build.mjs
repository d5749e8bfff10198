// Bundles src/ into dist/ with esbuild. The entry stays small; `run`'s network stage is a separate
// chunk loaded on demand, and the npm "dependencies" stay external (node_modules).
import { build } from "esbuild";
import { rm, chmod, readFile } from "node:fs/promises";
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
// module at start; every other builtin is an object of getters that loads the module at the first
// read (its export names as the building Node has them; the sources are typed for Node 20, the
// oldest line). Measured with bench/precheck.mjs (figures in issue 14).
const EAGER_BUILTINS = new Set(["node:fs", "node:path"]);
const builtinsLazy = {
  name: "builtins-lazy",
  setup(b) {
    // `await import("node:x")` (a lazy path already) stays Node's own: as a chunk it would split the core.
    b.onResolve({ filter: /^node:/ }, (a) => (a.kind === "dynamic-import" ? { path: a.path, external: true } : { path: a.path, namespace: "builtin" }));
    b.onResolve({ filter: /^cjs:node:/ }, (a) => ({ path: a.path.slice(4), namespace: "builtin-cjs" }));
    // One ES module per builtin re-exporting its CommonJS object: esbuild copies the object's
    // properties once per builtin, not once per source file importing it (-0.7 MiB, -3% CPU).
    // fs and path: plain named exports read from the module (no copying at all; esbuild drops those
    // not imported); a getter such as fs.promises stays lazy behind a forwarding object.
    b.onLoad({ filter: /.*/, namespace: "builtin" }, (a) => {
      if (!EAGER_BUILTINS.has(a.path)) return { contents: `export * from "cjs:${a.path}";\nimport m from "cjs:${a.path}";\nexport default m;\n`, loader: "js", resolveDir: "." };
      const mod = process.getBuiltinModule(a.path);
      const names = Object.keys(mod).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== "default");
      const lines = [`const m = process.getBuiltinModule(${JSON.stringify(a.path)});`, "export default m;"];
      for (const n of names) {
        const lazy = typeof Object.getOwnPropertyDescriptor(mod, n)?.get === "function";
        lines.push(lazy ? `export const ${n} = /* @__PURE__ */ new Proxy({}, { get: (_, k) => m.${n}[k] });` : `export const ${n} = /* @__PURE__ */ (() => m.${n})();`);
      }
      return { contents: lines.join("\n"), loader: "js" };
    });
    b.onLoad({ filter: /.*/, namespace: "builtin-cjs" }, (a) => {
      const id = JSON.stringify(a.path);
      if (EAGER_BUILTINS.has(a.path)) return { contents: `module.exports = process.getBuiltinModule(${id});\n`, loader: "js" };
      const names = Object.keys(process.getBuiltinModule(a.path)).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== "default");
      return {
        contents: `let mod;\nfor (const k of ${JSON.stringify(names.join(","))}.split(","))\n  Object.defineProperty(exports, k, { get: () => (mod ??= process.getBuiltinModule(${id}))[k], enumerable: true });\n`,
        loader: "js",
      };
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
// to load 14 files. Pass 1 finds the offline core (what the entry reaches by static imports) and the
// lazily imported modules; pass 2 makes every lazily imported module use every export of the core,
// so that all of it is shared by the same set of entries and lands in one chunk. (Named imports, not
// `export * as`: namespace objects would cost the core ~400 getters at every start.)
const pass1 = await build({ ...common, entryPoints: [ENTRY], outdir: "dist.pass1", splitting: true, write: false, metafile: true, plugins: [cliuiCjs, builtinsLazy] });
const inputs = pass1.metafile.inputs;
const isOwn = (p) => p.startsWith("src/");
const core = new Set();
for (const todo = [ENTRY]; todo.length; ) {
  const f = todo.pop();
  if (core.has(f)) continue;
  core.add(f);
  for (const i of inputs[f]?.imports ?? []) if (i.kind === "import-statement" && !i.external && isOwn(i.path)) todo.push(i.path);
}
core.delete(ENTRY); // its top level runs main(): nothing else imports it
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
      if (!lazyAbs.has(a.path)) return undefined;
      return { contents: `${await readFile(a.path, "utf8")}\n${useCore}\n`, loader: "ts" };
    });
  },
};

await rm(new URL("../dist", import.meta.url), { recursive: true, force: true });
await build({
  ...common,
  entryPoints: { "acme-renew": ENTRY, ...WORKERS },
  outdir: "dist",
  splitting: true,
  plugins: [cliuiCjs, builtinsLazy, oneCoreChunk],
  chunkNames: "chunks/[name]-[hash]",
  // `require` for bundled CommonJS (yargs, cliui), made at its first use: createRequire(import.meta.url)
  // at the top of every chunk cost the offline path 0.6 to 2.6 MiB of RSS on Node 24.
  banner: {
    js: "let __req; const __cr = () => (__req ??= process.getBuiltinModule('node:module').createRequire(import.meta.url)); const require = new Proxy(function () {}, { apply: (_, t, a) => __cr()(...a), get: (_, k) => __cr()[k] });",
  },
});
await chmod(new URL("../dist/acme-renew.js", import.meta.url), 0o755);
