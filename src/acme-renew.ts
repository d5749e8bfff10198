#!/usr/bin/env node
import { main } from "./cli/main.js";
import { Logger } from "./report/log.js";

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
