/** The one tolerant file read: a file's text, or null when it does not exist. Other errors are thrown. */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";

const missing = (e: unknown) => (e as NodeJS.ErrnoException).code === "ENOENT";

export function readTextOrNull(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    if (missing(e)) return null;
    throw e;
  }
}

export async function readTextOrNullAsync(file: string): Promise<string | null> {
  try {
    return await readFile(file, "utf8");
  } catch (e) {
    if (missing(e)) return null;
    throw e;
  }
}
