#!/usr/bin/env node
import { main } from "./cli/main.js";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`acme-renew: internal error: ${String(e)}\n`);
    process.exitCode = 1;
  },
);
