/**
 * nix/run-in-slot.sh — the NixOS module's maxConcurrentRenewals wrapper — run for real: bash, flock,
 * systemd-notify against a real unix datagram listener standing in for systemd's notify socket.
 * The slots must serialize the runs, and a run waiting for a slot must keep telling systemd that it
 * is alive (EXTEND_TIMEOUT_USEC=), so that a queue never times the unit out.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Listener } from "../helpers/dgram-listener.js";

const SCRIPT = resolve(import.meta.dirname, "../../../nix/run-in-slot.sh");

interface Run {
  code: number | null;
  stdout: string;
}

function runInSlot(slots: number, tag: string, dir: string, env: NodeJS.ProcessEnv, holdS = 1.5): Promise<Run> {
  // The "acme-renew run": logs its start and end (with the time) and holds the slot for holdS.
  const job = `echo "start $0 $(date +%s%N)" >> "$1"; sleep ${holdS}; echo "end $0 $(date +%s%N)" >> "$1"`;
  return new Promise((res, rej) => {
    const child = spawn("bash", [SCRIPT, String(slots), "sh", "-c", job, tag, join(dir, "log")], {
      env: { PATH: process.env.PATH, RUNTIME_DIRECTORY: join(dir, "run"), ACME_RENEW_SLOT_NOTIFY_EVERY: "1", ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", rej);
    child.on("close", (code) => {
      clearTimeout(timer);
      res({ code, stdout });
    });
  });
}

/** The largest number of runs inside their slot at the same time, from the log. */
function maxConcurrent(log: string): number {
  const events = log
    .trim()
    .split("\n")
    .map((l) => l.split(" "))
    .map(([what, , t]) => ({ d: what === "start" ? 1 : -1, t: BigInt(t!) }))
    .sort((a, b) => (a.t === b.t ? a.d - b.d : a.t < b.t ? -1 : 1));
  let n = 0;
  let max = 0;
  for (const e of events) max = Math.max(max, (n += e.d));
  return max;
}

function tmp() {
  const dir = mkdtempSync(join(tmpdir(), "acme-renew-slots-"));
  mkdirSync(join(dir, "run"));
  return dir;
}

test("one slot, three runs: one at a time; the waiting ones send EXTEND_TIMEOUT_USEC while they wait", { timeout: 60_000 }, async () => {
  const dir = tmp();
  const socket = join(dir, "notify");
  const l = await Listener.start(socket);
  try {
    const runs = await Promise.all(["a", "b", "c"].map((t) => runInSlot(1, t, dir, { NOTIFY_SOCKET: socket })));
    assert.deepEqual(
      runs.map((r) => r.code),
      [0, 0, 0],
    );
    const log = readFileSync(join(dir, "log"), "utf8");
    assert.equal(log.trim().split("\n").length, 6, log);
    assert.equal(maxConcurrent(log), 1, log);
    // Two runs waited (about 1.5 s and 3 s): at least one EXTEND each, then the slot.
    const extend = l.ours().filter((m) => m.startsWith("EXTEND_TIMEOUT_USEC=3000000\nSTATUS=waiting for one of 1 renewal slots"));
    assert.ok(extend.length >= 3, `EXTEND_TIMEOUT_USEC messages: ${JSON.stringify(l.ours())}`);
    assert.equal(l.ours().filter((m) => /^STATUS=got renewal slot 1 of 1 after \d+s$/.test(m)).length, 2, JSON.stringify(l.ours()));
    assert.equal(runs.filter((r) => /waiting for one of 1 renewal slots/.test(r.stdout)).length, 2);
  } finally {
    l.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("two slots, four runs: never more than two at once, and two do run at once", { timeout: 60_000 }, async () => {
  const dir = tmp();
  try {
    const runs = await Promise.all(["a", "b", "c", "d"].map((t) => runInSlot(2, t, dir, {})));
    assert.deepEqual(
      runs.map((r) => r.code),
      [0, 0, 0, 0],
    );
    assert.equal(maxConcurrent(readFileSync(join(dir, "log"), "utf8")), 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the command's exit status is the wrapper's; no NOTIFY_SOCKET: nothing sent, no error", { timeout: 30_000 }, async () => {
  const dir = tmp();
  try {
    const r = await new Promise<number | null>((res) => {
      const child = spawn("bash", [SCRIPT, "1", "sh", "-c", "exit 75"], { env: { PATH: process.env.PATH, RUNTIME_DIRECTORY: join(dir, "run") }, stdio: "inherit" });
      child.on("close", res);
    });
    assert.equal(r, 75);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
