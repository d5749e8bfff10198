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

await rm(new URL("../dist", import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { "acme-renew": "src/acme-renew.ts" },
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external,
  plugins: [cliuiCjs],
  chunkNames: "chunks/[name]-[hash]",
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  // The clock floor (src/util/build-info.ts). Reproducible builds (Nix) pin it with SOURCE_DATE_EPOCH.
  // __VERSION__: package.json's version for --version (src/util/build-info.ts).
  define: {
    __BUILD_TIME__: JSON.stringify(new Date(process.env.SOURCE_DATE_EPOCH ? Number(process.env.SOURCE_DATE_EPOCH) * 1000 : Date.now()).toISOString()),
    __VERSION__: JSON.stringify(pkg.version),
  },
  legalComments: "none",
  logLevel: "warning",
});
await chmod(new URL("../dist/acme-renew.js", import.meta.url), 0o755);
