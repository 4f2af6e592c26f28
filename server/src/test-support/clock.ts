/**
 * The test processes' clock. `HB_TEST_NOW=<ISO instant>` starts every test worker's clock at that
 * instant (it then moves on in real time), so the whole suite can be run as if it were any day of
 * the year: tests take "today" from this clock, never from the machine's calendar. The browser
 * tests hand the same instant to Chromium (`page.clock`), and the database gets its timestamps
 * from the app (server/src/platform/db/timestamps.ts), so the three agree.
 */
const RealDate = Date;
let installedOffset = 0;

/** The offset the running test process's clock was shifted by (for handing on to Chromium). */
export function installedClockOffset(): number {
  return installedOffset;
}

/**
 * The same shift inside a browser page (run by `page.addInitScript` before the app's scripts): a
 * Date whose now is `offset` ms ahead and keeps ticking. Self-contained: it is serialised.
 */
export function shiftBrowserDate(offset: number): void {
  const Real = Date;
  class Shifted extends Real {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(Real.now() + offset);
      else super(...(args as [number]));
    }
    static override now(): number {
      return Real.now() + offset;
    }
  }
  (globalThis as { Date: DateConstructor }).Date = Shifted as unknown as DateConstructor;
}

/** Milliseconds the test clock is ahead of the machine's (0 when HB_TEST_NOW is unset). */
export function testClockOffset(): number {
  const at = process.env.HB_TEST_NOW;
  if (!at) return 0;
  const t = RealDate.parse(at);
  if (Number.isNaN(t)) throw new Error(`HB_TEST_NOW is not an ISO instant: ${at}`);
  // each test file (its own process) starts at that instant
  return t - RealDate.now();
}

/** Replace the global Date with one shifted by `offset` ms that keeps ticking. */
export function installShiftedDate(offset: number): void {
  installedOffset = offset;
  if (!offset) return;
  class ShiftedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...(args as [number]));
    }
    static override now(): number {
      return RealDate.now() + offset;
    }
  }
  // Date() called as a function returns a string of now
  const Shifted = new Proxy(ShiftedDate, {
    apply: () => new ShiftedDate().toString(),
  });
  (globalThis as { Date: DateConstructor }).Date = Shifted as unknown as DateConstructor;
}

/**
 * For a test file whose story happens on one China calendar day (a day's payments reconciled,
 * "today's" invoices): when the test clock is less than `minutes` before China midnight, move
 * this process's clock on to just after midnight, so the story can't straddle two days. Call it
 * at the top of the file, before the app starts. The day is still taken from the test's clock.
 */
export function keepOneChinaDay(minutes = 30): void {
  const now = Date.now();
  const msIntoChinaDay = (now + 8 * 3600_000) % 86_400_000;
  const left = 86_400_000 - msIntoChinaDay;
  if (left >= minutes * 60_000) return;
  installShiftedDate(installedOffset + left + 5_000);
}
