/** Facts fixed at build time (scripts/build.mjs defines __BUILD_TIME__ and __VERSION__). */
declare const __BUILD_TIME__: string | undefined;
declare const __VERSION__: string | undefined;

/**
 * No correct clock can be earlier than the moment this program was built: a host that booted with
 * its clock at 1970 must not judge certificates by it. Null when running unbundled (unit tests).
 */
export const BUILD_TIME: Date | null = typeof __BUILD_TIME__ === "string" ? new Date(__BUILD_TIME__) : null;

/**
 * package.json's version, for --version. Fixed at build time because yargs' own lookup searches for
 * a package.json from the working directory and prints "unknown" for an installed package.
 */
export const VERSION: string = typeof __VERSION__ === "string" ? __VERSION__ : "unknown (unbundled)";
