/**
 * `--help` wraps at the terminal's width (or $COLUMNS) and never breaks a word (issue 11, item 19:
 * "c ontacted", "renewa l"): at every width, the help text holds exactly the words it holds
 * unwrapped, and no line is longer than the width.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { CLI, runCli } from "../helpers/cli.js";

const COMMANDS = [[], ["check"], ["ready"], ["run"], ["status"], ["doctor"], ["validate"], ["schema"], ["import"], ["delete"], ["completion"], ["serve-http01"]];
const collapse = (s: string) => s.replace(/\s+/g, " ").trim();

/** The words of a text, sorted (a broken word shows up as two words that are not in the original). */
const words = (text: string) => text.split(/\s+/).filter(Boolean).sort();

test("--help at widths 40–200 ($COLUMNS): no line longer than the width, no word broken", async () => {
  for (const cmd of COMMANDS) {
    const wide = await runCli([...cmd, "--help"], { env: { COLUMNS: "1000" } });
    assert.equal(wide.code, 0, wide.stderr);
    const expected = words(wide.stdout);
    assert.ok(expected.includes("contacted") || cmd.length > 0, wide.stdout);
    for (const width of [40, 60, 80, 120, 200]) {
      const r = await runCli([...cmd, "--help"], { env: { COLUMNS: String(width) } });
      assert.equal(r.code, 0, r.stderr);
      for (const line of r.stdout.split("\n")) assert.ok(line.length <= width, `${cmd.join(" ") || "(top)"} @${width}: line of ${line.length}: ${line}`);
      assert.deepEqual(words(r.stdout), expected, `${cmd.join(" ") || "(top)"} @${width}: words differ from the unwrapped help:\n${r.stdout}`);
    }
  }
});

test("--help on a terminal uses the terminal's width (a pty of 70 columns)", () => {
  const r = spawnSync("script", ["-qec", `stty cols 70 rows 40; ${process.execPath} ${CLI} run --help`, "/dev/null"], { encoding: "utf8", timeout: 30_000 });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.replace(/\r/g, "").split("\n");
  assert.ok(lines.some((l) => l.length > 60), "uses the width (some line is longer than 60)");
  for (const l of lines) assert.ok(l.length <= 70, `line of ${l.length}: ${l}`);
  assert.match(collapse(r.stdout), /the CA is contacted only when needed/);
});
