/** Resolves a group name to its gid from /etc/group (Node has no getgrnam). */
import { readFile } from "node:fs/promises";

export async function gidOf(group: string, groupFile = "/etc/group"): Promise<number> {
  if (/^\d+$/.test(group)) return Number(group);
  const text = await readFile(groupFile, "utf8");
  for (const line of text.split("\n")) {
    const [name, , gid] = line.split(":");
    if (name === group && gid !== undefined) return Number(gid);
  }
  throw new Error(`group "${group}" does not exist (${groupFile})`);
}
