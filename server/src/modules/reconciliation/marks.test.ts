/** The run's compact memory: the ledger bitmap and the key filter (a miss must be certain). */
import { describe, expect, it } from 'vitest';
import { KeyFilter, LedgerMarks } from './marks';

describe('KeyFilter', () => {
  it('never misses a key it was given, says so once per key, and rarely claims one it was not given', () => {
    const f = new KeyFilter();
    const keys = Array.from({ length: 200_000 }, (_, i) => `pay:HB${String(i).padStart(22, '0')}`);
    // the first add of each key is new (bar the rare false hit), the second never is
    const falseHits = keys.filter((k) => f.addIfNew(k)).length;
    expect(falseHits).toBeLessThan(keys.length * 0.001);
    expect(keys.every((k) => f.addIfNew(k))).toBe(true);
    expect(keys.every((k) => f.mightHave(k))).toBe(true);
    const others = Array.from({ length: 200_000 }, (_, i) => `refund:HB${String(i).padStart(22, '0')}R1`);
    expect(others.filter((k) => f.mightHave(k)).length).toBeLessThan(others.length * 0.01);
  });
});

describe('LedgerMarks', () => {
  it('marks an id once, inside the day range and outside it', () => {
    const m = new LedgerMarks(1000, 1999);
    expect([m.mark(1000), m.mark(1000), m.has(1000), m.has(1001)]).toEqual([false, true, true, false]);
    expect([m.mark(5), m.mark(5), m.has(5), m.has(6)]).toEqual([false, true, true, false]);
  });
});
