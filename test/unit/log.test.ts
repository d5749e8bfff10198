import { test } from "node:test";
import assert from "node:assert/strict";
import { Logger } from "../../src/report/log.js";

function capture(format: "text" | "journal" | "json") {
  const lines: string[] = [];
  const log = new Logger(format, (l) => lines.push(l), {});
  return { log, lines };
}

test("one event is one line in every format, whatever the message holds", () => {
  for (const format of ["text", "journal", "json"] as const) {
    const { log, lines } = capture(format);
    log.error("config-error", 'config /etc/a.json: bad\nkey: unknown key\r\nerror: forged line', { cert: "a" });
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.trimEnd().split("\n").length, 1, `${format}: ${lines[0]}`);
  }
});

test("secret-looking field names are redacted", () => {
  const { log, lines } = capture("json");
  log.info("x", "m", { hmacKey: "s3cr3t", accountKey: "k", token: "t" });
  assert.doesNotMatch(lines[0]!, /s3cr3t|"k"|"t"/);
});
