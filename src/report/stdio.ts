/**
 * stdout and stderr without Node's stream objects: `process.stdout`/`process.stderr` on a pipe or
 * socket (systemd's journal stream, a test's pipe) load net and streams, ~2 MiB and a few ms of a
 * pre-check that writes a few lines. Writes are synchronous, as Node's own are on Linux pipes and
 * files, so lines keep their order. An fd that is non-blocking and full (EAGAIN), or any other
 * error, hands the rest to Node's stream, which behaves as before (EPIPE included) — and keeps that
 * fd from then on, so that nothing overtakes what the stream still queues.
 */
import { fstatSync, writeSync } from "node:fs";

type Fd = 1 | 2;
const stream = (fd: Fd) => (fd === 1 ? process.stdout : process.stderr);

const toStream = new Set<Fd>();

export function writeFd(fd: Fd, text: string): void {
  if (toStream.has(fd)) {
    stream(fd).write(text);
    return;
  }
  const buf = Buffer.from(text, "utf8");
  let off = 0;
  try {
    while (off < buf.length) off += writeSync(fd, buf, off);
  } catch {
    toStream.add(fd);
    stream(fd).write(buf.subarray(off));
  }
}

export const writeOut = (text: string): void => writeFd(1, text);
export const writeErr = (text: string): void => writeFd(2, text);

/** Linux's major number of the memory devices (/dev/null, /dev/zero, /dev/full…): never a terminal. */
const MEM_MAJOR = 1;

/**
 * Is fd a terminal? Only a character device can be one, and /dev/null is none: for those Node's
 * stream (and node:tty, net, streams: ~15 ms) is not loaded to ask.
 */
export function isTerminal(fd: Fd): boolean {
  try {
    const st = fstatSync(fd);
    if (!st.isCharacterDevice() || ((st.rdev >>> 8) & 0xfff) === MEM_MAJOR) return false;
  } catch {
    return false;
  }
  return stream(fd).isTTY === true;
}
