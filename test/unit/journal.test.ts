/**
 * The journald native-protocol sink: encoding, MESSAGE_ID, the Logger-field mapping, the fallbacks,
 * and — when the optional native module node-unix-socket is installed — entries sent to a REAL unix
 * datagram listener (python3) at a temporary path, parsed back field by field.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { createJournalSink, encodeEntry, messageIdFor, NATIVE_MODULE, toJournalEntry, type JournalEntry } from "../../src/systemd/journal.js";
import { Listener } from "../helpers/dgram-listener.js";

const dir = mkdtempSync(join(tmpdir(), "acme-renew-journal-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Parses one native-protocol datagram into [name, value] pairs, in order. */
function parseEntry(buf: Buffer): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let i = 0;
  while (i < buf.length) {
    const nl = buf.indexOf(0x0a, i);
    assert.ok(nl >= 0, "unterminated field");
    const line = buf.subarray(i, nl).toString("utf8");
    const eq = line.indexOf("=");
    if (eq >= 0) {
      out.push([line.slice(0, eq), line.slice(eq + 1)]);
      i = nl + 1;
    } else {
      const len = Number(buf.readBigUInt64LE(nl + 1));
      const start = nl + 9;
      out.push([line, buf.subarray(start, start + len).toString("utf8")]);
      assert.equal(buf[start + len], 0x0a, "binary field not followed by a newline");
      i = start + len + 1;
    }
  }
  return out;
}

describe("encoding", () => {
  test("simple fields, then binary framing for a value with a newline; bad names dropped", () => {
    const buf = encodeEntry({
      priority: 4,
      message: "renewal failed\nsecond line",
      fields: { ACME_CERT: "example.com", _PID: "1", "lower-case": "x", "9LIVES": "x", PRIORITY: "0", MESSAGE_ID: "f09da26e8bbf600ee8f97f9bfa5177eb" },
    });
    assert.deepEqual(parseEntry(buf), [
      ["MESSAGE", "renewal failed\nsecond line"],
      ["PRIORITY", "4"],
      ["SYSLOG_IDENTIFIER", "acme-renew"],
      ["ACME_CERT", "example.com"],
      ["MESSAGE_ID", "f09da26e8bbf600ee8f97f9bfa5177eb"],
    ]);
    // The binary form exactly: NAME "\n" <u64 LE length> value "\n".
    const head = Buffer.from("MESSAGE\n");
    assert.deepEqual(buf.subarray(0, head.length), head);
    assert.equal(buf.readBigUInt64LE(head.length), BigInt("renewal failed\nsecond line".length));
  });

  test("MESSAGE_ID: 128-bit hex, stable, one per event (pinned: first 16 bytes of SHA-256)", () => {
    assert.equal(messageIdFor("renewed"), "ac703c608b03eb34b1188dbc667d8a98");
    assert.equal(messageIdFor("soft-failure"), "f09da26e8bbf600ee8f97f9bfa5177eb");
    assert.equal(messageIdFor("failure"), "3f4d6f5de5c95bf684bc3ba5bd601563");
    assert.match(messageIdFor("anything"), /^[0-9a-f]{32}$/);
    assert.notEqual(messageIdFor("renewed"), messageIdFor("renewing"));
  });

  test("Logger fields → journal fields", () => {
    const e = toJournalEntry("warning", "soft-failure", "renewal failed (network): …", {
      cert: "example.com",
      not_after: new Date("2030-01-02T03:04:05Z"),
      class: "network",
      requests: 3,
      problem: undefined,
      next_attempt: null,
    }, "<4>event=soft-failure cert=example.com msg=…");
    assert.deepEqual(e, {
      priority: 4,
      message: "renewal failed (network): …",
      fields: {
        MESSAGE_ID: "f09da26e8bbf600ee8f97f9bfa5177eb",
        ACME_EVENT: "soft-failure",
        ACME_CERT: "example.com",
        ACME_NOT_AFTER: "2030-01-02T03:04:05.000Z",
        ACME_CLASS: "network",
        ACME_REQUESTS: "3",
        ACME_OUTCOME: "soft-failure",
      },
      line: "<4>event=soft-failure cert=example.com msg=…",
    });
    assert.equal(toJournalEntry("info", "order", "x", {}).fields.ACME_OUTCOME, undefined);
    assert.equal(toJournalEntry("warning", "backoff", "x", {}).fields.ACME_OUTCOME, "waiting");
    assert.equal(toJournalEntry("debug", "x", "x", {}).priority, 7);
  });
});

describe("fallbacks", () => {
  const entry: JournalEntry = { priority: 6, message: "m", fields: {}, line: "<6>event=x msg=m\n" };

  test("no journald socket: not available, entries go to the fallback", async () => {
    const got: JournalEntry[] = [];
    const sink = createJournalSink({ socketPath: join(dir, "none.sock"), fallback: (e) => got.push(e) });
    assert.equal(sink.available, false);
    assert.match(sink.reason ?? "", /no journald socket/);
    await sink.write(entry);
    assert.deepEqual(got, [entry]);
    await sink.close();
  });

  test("the native module cannot be loaded: unavailable from the first write on", async () => {
    // Any socket at the path passes the existence check; nothing is ever sent to it here.
    const sock = join(dir, "fallback.sock");
    const server = createServer();
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      const got: JournalEntry[] = [];
      const sink = createJournalSink({
        socketPath: sock,
        fallback: (e) => got.push(e),
        load: () => {
          throw new Error("Cannot find module 'node-unix-socket'");
        },
      });
      assert.equal(sink.available, true); // nothing loaded yet
      await sink.write(entry);
      await sink.write(entry);
      assert.equal(sink.available, false);
      assert.match(sink.reason ?? "", /cannot be loaded/);
      assert.equal(got.length, 2);
      await sink.close();
    } finally {
      server.close();
    }
  });

});

// --- a real listener ------------------------------------------------------------------------------

const hasPython = spawnSync("sh", ["-c", "command -v python3"]).status === 0;
let hasModule = true;
try {
  createRequire(import.meta.url).resolve(NATIVE_MODULE);
} catch {
  hasModule = false;
}
const SKIP = !hasPython
  ? "python3 is not installed (Debian: python3-minimal); it provides the test's datagram listener"
  : !hasModule
    ? `${NATIVE_MODULE} is not installed: the journald sink is inactive (stderr only) until it is added to package.json "dependencies"`
    : false;

describe("journald native protocol over a real datagram socket", { skip: SKIP }, () => {
  test("entries arrive with exactly the fields we set, in order; the socket does not keep Node alive", async () => {
    const sock = join(dir, "journal.sock");
    const l = await Listener.start(sock);
    try {
      const fallback: JournalEntry[] = [];
      const sink = createJournalSink({ socketPath: sock, fallback: (e) => fallback.push(e) });
      assert.equal(sink.available, true, sink.reason ?? "");
      const first = toJournalEntry("warning", "soft-failure", "renewal failed (network): CA unreachable\nretrying later", {
        cert: "example.com",
        not_after: new Date("2030-01-02T03:04:05Z"),
      });
      const second = toJournalEntry("notice", "renewed", "renewed, valid until 2030-04-01T00:00:00.000Z", { cert: "example.org", not_after: new Date("2030-04-01T00:00:00Z") });
      await Promise.all([sink.write(first), sink.write(second)]);
      const got = (await l.waitForRaw(2)).map(parseEntry);
      assert.deepEqual(got, [
        [
          ["MESSAGE", "renewal failed (network): CA unreachable\nretrying later"],
          ["PRIORITY", "4"],
          ["SYSLOG_IDENTIFIER", "acme-renew"],
          ["MESSAGE_ID", "f09da26e8bbf600ee8f97f9bfa5177eb"],
          ["ACME_EVENT", "soft-failure"],
          ["ACME_CERT", "example.com"],
          ["ACME_NOT_AFTER", "2030-01-02T03:04:05.000Z"],
          ["ACME_OUTCOME", "soft-failure"],
        ],
        [
          ["MESSAGE", "renewed, valid until 2030-04-01T00:00:00.000Z"],
          ["PRIORITY", "5"],
          ["SYSLOG_IDENTIFIER", "acme-renew"],
          ["MESSAGE_ID", "ac703c608b03eb34b1188dbc667d8a98"],
          ["ACME_EVENT", "renewed"],
          ["ACME_CERT", "example.org"],
          ["ACME_NOT_AFTER", "2030-04-01T00:00:00.000Z"],
          ["ACME_OUTCOME", "renewed"],
        ],
      ]);
      assert.deepEqual(fallback, []);
      await sink.close();
      assert.equal(sink.available, false);
      await sink.write(first);
      assert.equal(fallback.length, 1);
    } finally {
      l.stop();
    }
  });

  test("journald gone after the check: the entry goes to the fallback", async () => {
    const sock = join(dir, "gone.sock");
    const l = await Listener.start(sock);
    const fallback: JournalEntry[] = [];
    const sink = createJournalSink({ socketPath: sock, fallback: (e) => fallback.push(e) });
    assert.equal(sink.available, true);
    l.stop();
    rmSync(sock, { force: true });
    await sink.write({ priority: 6, message: "lost?", fields: {} });
    assert.equal(fallback.length, 1);
    await sink.close();
  });

  test("a node process that writes and returns exits by itself (no lingering handle)", async () => {
    const sock = join(dir, "exit.sock");
    const l = await Listener.start(sock);
    try {
      const mod = new URL("../../src/systemd/journal.js", import.meta.url).href;
      const script = `
        const { createJournalSink } = await import(${JSON.stringify(mod)});
        const sink = createJournalSink({ socketPath: process.argv[1], fallback: () => process.exit(3) });
        await sink.write({ priority: 6, message: "bye", fields: {} });
      `;
      const r = spawnSync(process.execPath, ["--input-type=module", "-e", script, sock], { timeout: 8000, encoding: "utf8" });
      assert.equal(r.status, 0, `exit ${r.status} ${r.signal ?? ""} ${r.stderr}`);
      assert.deepEqual((await l.waitForRaw(1)).map(parseEntry), [
        [
          ["MESSAGE", "bye"],
          ["PRIORITY", "6"],
          ["SYSLOG_IDENTIFIER", "acme-renew"],
        ],
      ]);
    } finally {
      l.stop();
    }
  });
});
