// Shared benchmark helpers: alternate commands, take medians, report ratios against a baseline
// measured in the same invocation, with peak RSS from GNU time when it is installed.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const GNU_TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : null;

/**
 * Runs argv once; resolves to wall ms, exit code (null when killed), peak RSS (KiB, or null) and,
 * with `opts.stderr`, the last stderr line. Asynchronous on purpose: a blocked event loop would stop
 * draining the pipes of servers this process started (Pebble blocks once its log pipe is full).
 */
export function measure(argv, opts = {}) {
  const out = join(tmpdir(), `acme-renew-bench-${process.pid}-${seq++}.time`);
  const cmd = GNU_TIME ? [GNU_TIME, "-f", "%M", "-o", out, ...argv] : argv;
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    // Own process group, so that a timeout kills the tool and everything it started.
    const child = spawn(cmd[0], cmd.slice(1), { stdio: ["ignore", "ignore", opts.stderr ? "pipe" : "ignore"], detached: true, env: opts.env ?? process.env });
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    }, opts.timeoutMs ?? 120_000);
    let err = "";
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (d) => (err = (err + d).slice(-8192)));
    child.on("close", (code) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      let rss = null;
      if (GNU_TIME) {
        try {
          rss = Number(readFileSync(out, "utf8").trim().split("\n").pop());
        } catch {}
        rmSync(out, { force: true });
      }
      resolve({ ms, code, rss, lastLine: opts.stderr ? err.trim().split("\n").pop() ?? "" : undefined });
    });
  });
}
let seq = 0;

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Alternates the commands `runs` times (after one warm-up each); returns per-command medians. */
export async function compare(commands, runs) {
  for (const c of commands) await measure(c.argv, c);
  const samples = commands.map(() => ({ ms: [], rss: [], codes: new Set() }));
  for (let i = 0; i < runs; i++) {
    for (const [j, c] of commands.entries()) {
      const m = await measure(c.argv, c);
      samples[j].ms.push(m.ms);
      if (m.rss !== null) samples[j].rss.push(m.rss);
      samples[j].codes.add(m.code);
    }
  }
  return commands.map((c, j) => ({
    name: c.name,
    medianMs: median(samples[j].ms),
    rssKiB: samples[j].rss.length ? median(samples[j].rss) : null,
    codes: [...samples[j].codes].join(","),
  }));
}

export function table(rows, baselineName) {
  const base = rows.find((r) => r.name === baselineName);
  const lines = ["| command | median ms | ratio vs " + baselineName + " | peak RSS MiB | exit |", "|---|---:|---:|---:|---|"];
  for (const r of rows)
    lines.push(`| ${r.name} | ${r.medianMs.toFixed(1)} | ${base ? (r.medianMs / base.medianMs).toFixed(2) + "×" : "-"} | ${r.rssKiB ? (r.rssKiB / 1024).toFixed(1) : "-"} | ${r.codes} |`);
  return lines.join("\n");
}
