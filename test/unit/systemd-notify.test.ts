/**
 * sd_notify through systemd-notify(1), against a REAL unix datagram listener (python3), for a path
 * socket and an abstract ("@name") one.
 *
 * What systemd-notify adds beyond our message: since systemd 246 it waits until the receiver has
 * processed the message (sd_notify_barrier): after our datagram it sends a second one, exactly
 * "BARRIER=1", carrying a pipe fd (SCM_RIGHTS) that the receiver closes. Running as root with
 * CAP_SYS_ADMIN it also attaches SCM_CREDENTIALS naming its parent (us) as the sender; that is
 * ancillary data, not message text. Our own datagram holds exactly the "K=V" lines we asked for.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { createNotifier } from "../../src/systemd/notify.js";
import { Listener } from "../helpers/dgram-listener.js";

const has = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
const NO_LISTENER = !has("python3") ? "python3 is not installed (Debian: python3-minimal); it provides the test's datagram listener" : false;
const NO_NOTIFY = !has("systemd-notify") ? "systemd-notify is not installed (Debian: systemd)" : false;

const dir = mkdtempSync(join(tmpdir(), "acme-renew-notify-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A fake systemd-notify that records that it ran (or hangs). */
function fakeCommand(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe("sd_notify over a real datagram socket", { skip: NO_LISTENER || NO_NOTIFY }, () => {
  test("path socket: exact datagrams, in order; extra datagrams are only systemd-notify's BARRIER=1", async () => {
    const path = join(dir, "notify.sock");
    const l = await Listener.start(path);
    try {
      const notes: string[] = [];
      const n = createNotifier({ NOTIFY_SOCKET: path, PATH: process.env.PATH }, { debug: (m) => notes.push(m) });
      assert.equal(n.enabled, true);
      await n.status("ordering");
      await n.extendTimeout(30_000_000);
      await n.send({ STATUS: "renewed, valid until 2030-01-01T00:00:00.000Z", ERRNO: "0" });
      // Not awaited one by one: the notifier keeps call order itself.
      const last = [n.status("line one\nline two"), n.errno(110), n.exitStatus(75)];
      await Promise.all(last);
      const got = await l.waitFor(6);
      assert.deepEqual(got, [
        "STATUS=ordering",
        "EXTEND_TIMEOUT_USEC=30000000",
        "STATUS=renewed, valid until 2030-01-01T00:00:00.000Z\nERRNO=0",
        "STATUS=line one line two",
        "ERRNO=110",
        "EXIT_STATUS=75",
      ]);
      for (const m of l.messages) assert.ok(got.includes(m) || m === "BARRIER=1", `unexpected datagram ${JSON.stringify(m)}`);
      assert.deepEqual(notes, []);
    } finally {
      l.stop();
    }
  });

  test("abstract socket (@name)", async () => {
    const name = `@acme-renew-test-${process.pid}-${randomBytes(4).toString("hex")}`;
    const l = await Listener.start(name);
    try {
      const n = createNotifier({ NOTIFY_SOCKET: name, PATH: process.env.PATH });
      await n.status("abstract");
      await n.extendTimeout(1_500_000.4);
      assert.deepEqual(await l.waitFor(2), ["STATUS=abstract", "EXTEND_TIMEOUT_USEC=1500000"]);
    } finally {
      l.stop();
    }
  });

  test("a socket path that does not exist: resolves, one debug note", async () => {
    const notes: string[] = [];
    const n = createNotifier({ NOTIFY_SOCKET: join(dir, "missing", "notify.sock"), PATH: process.env.PATH }, { debug: (m) => notes.push(m) });
    await n.status("nobody listens");
    await n.status("still nobody");
    assert.equal(notes.length, 1);
    assert.match(notes[0]!, /systemd-notify exited 1/);
  });
});

describe("sd_notify without systemd", () => {
  test("NOTIFY_SOCKET unset: disabled, no process spawned, resolves at once", async () => {
    const marker = join(dir, "spawned");
    const command = fakeCommand("record", `touch '${marker}'`);
    const n = createNotifier({ PATH: process.env.PATH }, { command });
    assert.equal(n.enabled, false);
    const t0 = performance.now();
    const r = await Promise.race([
      Promise.all([n.status("x"), n.extendTimeout(1), n.send({ STATUS: "y" }), n.errno(1), n.exitStatus(1)]).then(() => "resolved"),
      new Promise((r) => setTimeout(() => r("timeout"), 100)),
    ]);
    assert.equal(r, "resolved");
    assert.ok(performance.now() - t0 < 50);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(existsSync(marker), false);
  });

  test("helper missing: resolves, one debug note, no further attempts", async () => {
    const notes: string[] = [];
    const n = createNotifier({ NOTIFY_SOCKET: "/run/nothing", PATH: process.env.PATH }, { command: join(dir, "no-such-systemd-notify"), debug: (m) => notes.push(m) });
    await n.status("a");
    await n.status("b");
    assert.equal(notes.length, 1);
    assert.match(notes[0]!, /sd_notify disabled: cannot start .*ENOENT/);
  });

  test("helper hangs: every call is bounded by timeoutMs", async () => {
    const notes: string[] = [];
    const command = fakeCommand("hang", "exec sleep 30");
    const n = createNotifier({ NOTIFY_SOCKET: "/run/nothing", PATH: process.env.PATH }, { command, timeoutMs: 300, debug: (m) => notes.push(m) });
    const t0 = performance.now();
    await n.status("a");
    await n.status("b"); // given up after the first timeout: no second 300 ms
    const ms = performance.now() - t0;
    assert.ok(ms >= 250 && ms < 1500, `took ${ms} ms`);
    assert.equal(notes.length, 1);
    assert.match(notes[0]!, /did not finish within 300 ms/);
  });

  test("field names are checked, values are arguments (no shell)", async () => {
    const out = join(dir, "args");
    const command = fakeCommand("args", `for a in "$@"; do printf '%s\\n' "$a"; done > '${out}'; printf '%s\\n' "$NOTIFY_SOCKET" >> '${out}'`);
    const notes: string[] = [];
    const n = createNotifier({ NOTIFY_SOCKET: "@x", PATH: process.env.PATH }, { command, debug: (m) => notes.push(m) });
    await n.send({ "bad-name": "1", STATUS: "$(touch /tmp/pwned) `id` ; rm -rf /" });
    const { readFileSync } = await import("node:fs");
    assert.equal(readFileSync(out, "utf8"), "--\nSTATUS=$(touch /tmp/pwned) `id` ; rm -rf /\n@x\n");
    assert.equal(notes.length, 1);
    assert.match(notes[0]!, /ignored field name "bad-name"/);
  });
});
