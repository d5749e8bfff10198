/** One hash over a directory tree: names, kinds, modes, file contents and link targets. Proves "nothing on disk changed". */
import { createHash } from "node:crypto";
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";

export function treeHash(...roots: string[]): string {
  const h = createHash("sha256");
  const walk = (p: string, rel: string) => {
    const st = lstatSync(p);
    h.update(`${rel}\0${st.mode.toString(8)}\0`);
    if (st.isSymbolicLink()) h.update(`-> ${readlinkSync(p)}\0`);
    else if (st.isFile()) h.update(readFileSync(p));
    else if (st.isDirectory()) for (const e of readdirSync(p).sort()) walk(join(p, e), `${rel}/${e}`);
    h.update("\n");
  };
  for (const r of roots) {
    h.update(`root ${r}\0`);
    if (existsSync(r)) walk(r, "");
  }
  return h.digest("hex");
}
