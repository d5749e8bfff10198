/** Prints acme-renew(1): `npm run man` writes it to man/acme-renew.1 (a test keeps that file current). */
import { readFileSync } from "node:fs";
import { manPage } from "../src/cli/man.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
process.stdout.write(manPage(pkg.version));
