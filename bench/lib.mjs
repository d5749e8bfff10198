// Shared benchmark helpers: alternate commands, take medians, report ratios against a baseline
// measured in the same invocation, with peak RSS from GNU time when it is installed.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const GNU_TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : null;

/** Runs argv once; returns wall ms, exit code and peak RSS (KiB, or null). */
export function measure(argv, opts = {}) {
  const out = join(tmpdir(), `acme-renew-bench-${process.pid}.time`);
  const cmd = GNU_TIME ? [GNU_TIME, "-f", "%M", "-o", out, ...argv] : argv;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd[0], cmd.slice(1), { stdio: ["ignore", "ignore", "ignore"], timeout: opts.timeoutMs ?? 120_000, env: opts.env ?? process.env });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  let rss = null;
  if (GNU_TIME) {
    try {
      rss = Number(readFileSync(out, "utf8").trim().split("\n").pop());
    } catch {}
    rmSync(out, { force: true });
  }
  return { ms, code: r.status, rss };
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Alternates the commands `runs` times (after one warm-up each); returns per-command medians. */
export function compare(commands, runs) {
  for (const c of commands) measure(c.argv, c);
  const samples = commands.map(() => ({ ms: [], rss: [], codes: new Set() }));
  for (let i = 0; i < runs; i++) {
    commands.forEach((c, j) => {
      const m = measure(c.argv, c);
      samples[j].ms.push(m.ms);
      if (m.rss !== null) samples[j].rss.push(m.rss);
      samples[j].codes.add(m.code);
    });
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
