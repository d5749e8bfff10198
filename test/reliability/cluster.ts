/**
 * Cluster mode under kill -9 (issue 13): two hosts (separate state dirs) share one certificate through
 * a real 3-member etcd; both are made due at once (the key type flips every iteration) and run
 * together; one of them is SIGKILLed at a random instant of its run (drawn from a measured normal
 * run), whether it holds the cluster lock, waits for it, orders or publishes. Its lease expires, the
 * other host (or its own next run) completes. After every iteration: both hosts end with a usable
 * matching pair and nothing lost (assertNothingLost for each), and the CA saw at most kills + 1 orders.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI, type CliResult } from "../helpers/cli.js";
import { startEtcdCluster } from "../helpers/etcd.js";
import { startFaultProxy, pass } from "../helpers/fault-proxy.js";
import { assertCleanOutput, assertNothingLost, newSandbox, rcli, snapshotCert, transcript, type Sandbox } from "../helpers/reliability.js";
import { scenario } from "./faults.js";
import { cfg, NAME, S } from "./setup.js";

/** Kill at `delayMs` (if still running). */
function runKilledAfter(s: Sandbox, label: string, args: string[], delayMs: number): Promise<CliResult & { killed: boolean }> {
  const full = ["--config-dir", s.configDir, "--state-dir", s.stateDir, ...args];
  const t0 = Date.now();
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [CLI, ...full], { env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let killed = false;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      killed = child.exitCode === null && child.kill("SIGKILL");
    }, delayMs);
    const bound = setTimeout(() => child.kill("SIGKILL"), 300_000);
    child.on("error", rej);
    child.on("close", (code) => {
      clearTimeout(timer);
      clearTimeout(bound);
      const r = { code, stdout, stderr, ms: Date.now() - t0 };
      transcript.push({ label, args, code, stdout, stderr, ms: r.ms, debug: false });
      res({ ...r, killed: killed && code === null });
    });
  });
}

export function registerCluster(): void {
  scenario("cluster-kill-9-holder", 1_500_000, async (t) => {
    const kills = Math.max(1, Number(process.env.RELIABILITY_CLUSTER_KILLS ?? 50));
    const lanes = Math.max(1, Number(process.env.RELIABILITY_CLUSTER_LANES ?? 2));
    const etcd = await startEtcdCluster();
    try {
      const perLane = Math.ceil(kills / lanes);
      const results = await Promise.all(
        Array.from({ length: lanes }, async (_, lane) => {
          const proxy = await startFaultProxy(S().pebble);
          proxy.setRule(pass);
          try {
            const orders = () => proxy.count((l) => l.startsWith("POST /order-plz"));
            const prefix = `/acme-renew/rel${process.pid}-${lane}`;
            const key = randomBytes(32).toString("base64");
            const hosts = [newSandbox(), newSandbox()] as const;
            const configure = (keyType: string) => {
              for (const h of hosts) {
                writeFileSync(join(h.root, "cluster.key"), `${key}\n`, { mode: 0o600 });
                // ari off: no `replaces`, so one newOrder POST is one order (no retry without it).
                h.writeConfig(NAME, cfg(proxy.directoryUrl, { keyType, ari: false, cluster: { etcd: { endpoints: etcd.endpoints }, prefix, encryptionKeyFile: join(h.root, "cluster.key") } }));
              }
            };
            // A normal first round (nothing on disk): measures D, the duration of the holder's run.
            configure("ec256");
            const first = await Promise.all(hosts.map((h) => rcli(h, "cluster-kill-9-holder", ["run", NAME])));
            for (const r of first) assert.equal(r.code, 0, r.stderr);
            // The holder's run is the shorter one (the other waited for it, then synced).
            const D = Math.min(...first.map((r) => r.ms));
            const W = Math.max(...first.map((r) => r.ms));
            let killed = 0;
            let maxOrders = 0;
            for (let i = 0; i < perLane; i++) {
              configure(i % 2 === 0 ? "ec384" : "ec256"); // both due at once
              const before = hosts.map((h) => snapshotCert(h.stateDir, NAME));
              const o0 = orders();
              const victim = i % 2;
              // Half over the holder's run (lock, order, install, publish), half over the waiter's too.
              const delay = Math.random() * (i % 4 < 2 ? D : W);
              const [ra, rb] = await Promise.all([runKilledAfter(hosts[victim]!, "cluster-kill-9-holder", ["run", NAME], delay), rcli(hosts[1 - victim]!, "cluster-kill-9-holder", ["run", NAME])]);
              assert.ok(rb.code === 0, `iteration ${i}: the other host: ${rb.code}\n${rb.stderr}`);
              assertCleanOutput(rb);
              if (ra.killed) killed++;
              else assert.equal(ra.code, 0, `iteration ${i}: not killed, exit ${ra.code}\n${ra.stderr}`);
              // The killed host's next run completes (pending install, sync, or its own order).
              const again = await rcli(hosts[victim]!, "cluster-kill-9-holder", ["run", NAME]);
              assert.equal(again.code, 0, `iteration ${i}: the killed host's next run\n${again.stderr}`);
              assertCleanOutput(again);
              hosts.forEach((h, k) => assertNothingLost(h.stateDir, NAME, before[k]!));
              const placed = orders() - o0;
              maxOrders = Math.max(maxOrders, placed);
              assert.ok(placed <= (ra.killed ? 1 : 0) + 1, `iteration ${i} (kill at ${delay.toFixed(0)} ms of ${D} ms, killed ${ra.killed}): ${placed} orders\n${ra.stderr}\n---\n${rb.stderr}\n---\n${again.stderr}`);
            }
            return { D, W, killed, iterations: perLane, maxOrders };
          } finally {
            await proxy.close();
          }
        }),
      );
      t.diagnostic(`cluster kill -9: ${results.map((r) => `lane D=${r.D}/${r.W} ms, ${r.killed}/${r.iterations} killed, max ${r.maxOrders} orders per iteration`).join("; ")}`);
      assert.ok(results.reduce((a, r) => a + r.killed, 0) >= 1, "at least one run was killed");
    } finally {
      await etcd.stop();
    }
  });
}
