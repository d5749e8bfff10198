#!/usr/bin/env node
// The compile cache first: the program's own modules load after it, through the import below.
import { enableCompileCache } from "./cli/compile-cache.js";

enableCompileCache();
const { main, Logger } = await import("./cli/main.js");

main(process.argv.slice(2)).then(
  async (code) => {
    await Logger.closeAll();
    process.exitCode = code;
    // A one-shot tool under systemd must end: should a socket or timer outlive the work, do not hang the unit.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (e) => {
    process.stderr.write(`acme-renew: internal error: ${String(e)}\n`);
    process.exit(1);
  },
);
