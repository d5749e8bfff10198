// Bundles src/ into dist/ with esbuild. The entry stays small; `run`'s network stage is a separate
// chunk loaded on demand, and npm dependencies other than yargs stay external (node_modules).
import { build } from "esbuild";
import { rm, chmod, readFile } from "node:fs/promises";

const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));
const external = Object.keys(pkg.dependencies).filter((d) => d !== "yargs");
// yargs is bundled (into its own lazily loaded chunk) so that `--help` needs no node_modules lookups.

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
  chunkNames: "chunks/[name]-[hash]",
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  // The clock floor (src/util/build-info.ts). Reproducible builds (Nix) pin it with SOURCE_DATE_EPOCH.
  define: { __BUILD_TIME__: JSON.stringify(new Date(process.env.SOURCE_DATE_EPOCH ? Number(process.env.SOURCE_DATE_EPOCH) * 1000 : Date.now()).toISOString()) },
  legalComments: "none",
  logLevel: "warning",
});
await chmod(new URL("../dist/acme-renew.js", import.meta.url), 0o755);
