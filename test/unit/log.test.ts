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

test("a text line: level, certificate, message, then the event and fields in their order (dates as ISO, none undefined)", () => {
  const { log, lines } = capture("text");
  const at = new Date("2027-02-28T18:49:07.000Z");
  log.info("check", "valid until x", { cert: "a.example", status: "valid", usable: true, not_after: at, renew_at: undefined, n: 3, z: null, s: 'two words "q"' });
  log.notice("other", "no fields");
  assert.deepEqual(lines, [
    'info: a.example: valid until x [event=check cert=a.example status=valid usable=true not_after=2027-02-28T18:49:07.000Z n=3 z=null s="two words \\"q\\""]\n',
    "notice: no fields [event=other]\n",
  ]);
});
