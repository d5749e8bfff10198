/**
 * Records, in a version directory being written, the facts the pre-check needs (src/inspect/recorded.ts
 * reads them): computed from the files' text by the same factsOf() a full check runs, with the pair
 * checked again, and pinned to each file's stat identity taken after its last change (mode, group).
 */
import { join } from "node:path";
import { factsOf } from "../inspect/read.js";
import { encodeRecord, FACTS_FILE, RECORDED_FILES, statId, type StatId } from "../inspect/recorded.js";
import { writeNewFile } from "./atomic.js";

/** Writes `<dir>/.facts.json` for the cert.pem, key.pem and chain.pem in `dir`; nothing when the cert cannot be read. */
export async function writeFactsRecord(dir: string, text: { cert: string; key: string; chain: string }): Promise<void> {
  const facts = factsOf(text, { cert: join(dir, "cert.pem"), key: join(dir, "key.pem") });
  if (facts.kind !== "present") return;
  const ids = {} as Record<(typeof RECORDED_FILES)[number], StatId>;
  for (const f of RECORDED_FILES) ids[f] = statId(join(dir, f));
  await writeNewFile(join(dir, FACTS_FILE), encodeRecord(facts, ids), 0o644);
}
