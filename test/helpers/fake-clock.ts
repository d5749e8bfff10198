/**
 * Test-only clock seam, preloaded into the CLI child with NODE_OPTIONS=--import (see cli.ts): when
 * ACME_RENEW_NOW is set, the child's clock starts at that instant and runs on from there (Date and
 * Date.now; timers and TLS verification keep the real clock). The production CLI never reads the
 * variable: it is removed here before the program starts.
 */
const wanted = process.env.ACME_RENEW_NOW;
if (wanted !== undefined) {
  delete process.env.ACME_RENEW_NOW;
  const RealDate = Date;
  const start = RealDate.parse(wanted);
  if (Number.isNaN(start)) {
    process.stderr.write(`fake-clock: ACME_RENEW_NOW is not a date: ${wanted}\n`);
    process.exit(64);
  }
  const offset = start - RealDate.now();
  class FakeDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...(args as [string | number | Date]));
    }
    static override now(): number {
      return RealDate.now() + offset;
    }
    // Dates made by Node itself (fs.Stats and the like) are still Dates.
    static override [Symbol.hasInstance](x: unknown): boolean {
      return x instanceof RealDate;
    }
  }
  globalThis.Date = FakeDate as DateConstructor;
}
export {};
