/**
 * Every loop over dates and seasons ends, for every MM-DD a setting can hold and any year: the
 * calendar settings are checked as real dates, and the arithmetic built on them only ever sees
 * real dates (issue 14 item 1, issue 16 item 3). Property-based over the whole input space.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  addServiceMinutes,
  changeClosesAt,
  changeDeadlineText,
  CompanyRules,
  dateInYear,
  isoDate,
  isoInstant,
  isChangeOpen,
  isRealDate,
  lateMessage,
  lastSeasonStartYear,
  monthDay,
  nextOpenSeason,
  parseStoredRules,
  seasonCode,
  seasonWindow,
} from './index';

/** every string of the shape MM-DD a stored setting could hold, real or not (00-00 .. 12-31) */
const ALL_MM_DD: string[] = [];
for (let m = 1; m <= 12; m++) for (let d = 1; d <= 31; d++) ALL_MM_DD.push(`${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`);

const anyInstant = fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2999-12-31T00:00:00Z'), noInvalidDate: true });

describe('calendar settings (MM-DD)', () => {
  it('the settings schema takes exactly the days every year has; 02-30, 04-31, 09-31, 02-29 are refused in Chinese', () => {
    for (const s of ALL_MM_DD) {
      const ok = monthDay().safeParse(s).success;
      expect(ok, s).toBe(isRealDate(`2027-${s}`));
    }
    for (const bad of ['02-30', '02-31', '04-31', '09-31', '02-29', '13-01', '00-10', '9-20', '09-20x']) {
      const r = CompanyRules.safeParse({ changeDeadline: bad });
      expect(r.success, bad).toBe(false);
      expect(r.error!.issues[0]!.message).toMatch(/日期不存在|2月29日|格式/);
    }
  });

  it('a deadline day the year lacks is that month’s last day, never an invalid date (02-29 no longer closes common years)', () => {
    expect(dateInYear(2027, '02-29')).toBe('2027-02-28');
    expect(dateInYear(2028, '02-29')).toBe('2028-02-29');
    expect(dateInYear(0, '11-01')).toBe('0000-11-01');
    // rules stored before the check are read, clamped
    expect(parseStoredRules({ changeDeadline: '02-30', seasonStart: '04-31' })).toMatchObject({ changeDeadline: '02-28', seasonStart: '04-30' });
    const leapRule = { changeDeadline: '02-29' };
    // a season starting in a common year: open on Feb 28 of that year, closed the day after
    expect(isChangeOpen('2027-2028', new Date('2027-02-28T12:00:00+08:00'), leapRule)).toBe(true);
    expect(isChangeOpen('2027-2028', new Date('2027-03-01T00:00:01+08:00'), leapRule)).toBe(false);
  });

  it('for every MM-DD and any instant, the next open season is found, is open, and the texts are real dates', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ALL_MM_DD), anyInstant, (changeDeadline, now) => {
        const rules = { changeDeadline };
        const season = nextOpenSeason(now, rules);
        expect(season).toMatch(/^\d{4}-\d{4}$/);
        expect(isChangeOpen(season, now, rules)).toBe(true);
        expect(Number.isNaN(changeClosesAt(season, rules).getTime())).toBe(false);
        expect(isRealDate(changeDeadlineText(season, rules).slice(0, 10))).toBe(true);
        expect(lateMessage('2000-2001', now, rules)).toMatch(/^\d{4}—\d{4}采暖季的报停\/复供申请已于\d+年\d+月\d+日/);
      }),
      { numRuns: 3000 },
    );
  });

  it('season windows are real, ordered instants for every pair of MM-DD settings and year', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ALL_MM_DD),
        fc.constantFrom(...ALL_MM_DD),
        fc.integer({ min: 1000, max: 2999 }),
        anyInstant,
        (seasonStart, seasonEnd, year, now) => {
          const w = seasonWindow(year, { seasonStart, seasonEnd });
          expect(Number.isNaN(w.start.getTime())).toBe(false);
          expect(Number.isNaN(w.end.getTime())).toBe(false);
          expect(Number.isInteger(lastSeasonStartYear(now, { seasonStart, seasonEnd }))).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('service clocks over quiet hours (issue 16 item 3: every loop over dates ends)', () => {
  const hm = fc
    .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
    .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
  it('for any quiet hours (even start = end), any SLA minutes a setting allows and any instant, the deadline is a real instant, not before the start', () => {
    fc.assert(
      fc.property(hm, hm, fc.integer({ min: 1, max: 30 * 24 * 60 }), anyInstant, (quietStart, quietEnd, minutes, from) => {
        const due = addServiceMinutes(from, minutes, { quietStart, quietEnd });
        expect(Number.isNaN(due.getTime())).toBe(false);
        expect(due.getTime()).toBeGreaterThanOrEqual(from.getTime());
      }),
      { numRuns: 2000 },
    );
  });
});

describe('date, season and instant parameters', () => {
  it('isoDate takes real dates of 2000–2099 only', () => {
    for (const ok of ['2000-01-01', '2028-02-29', '2099-12-31']) expect(isoDate().safeParse(ok).success, ok).toBe(true);
    for (const bad of ['0000-01-01', '0999-12-31', '1999-12-31', '2100-01-01', '2027-02-29', '2026-04-31', '2026-13-01', '2026-1-1', ' 2026-01-01', '']) {
      expect(isoDate().safeParse(bad).success, bad).toBe(false);
    }
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = isoDate().safeParse(s);
        if (r.success) expect(isRealDate(s)).toBe(true);
      }),
    );
  });

  it('seasonCode takes adjacent years of the sane range only (0000-0001 is refused)', () => {
    for (const ok of ['2000-2001', '2026-2027', '2098-2099']) expect(seasonCode().safeParse(ok).success, ok).toBe(true);
    for (const bad of ['0000-0001', '0999-1000', '1999-2000', '2099-2100', '2026-2028', '2026-2026', '2026—2027', '26-27']) {
      expect(seasonCode().safeParse(bad).success, bad).toBe(false);
    }
  });

  it('isoInstant refuses impossible and far-off times', () => {
    expect(isoInstant().safeParse('2026-11-25T10:00:00+08:00').success).toBe(true);
    for (const bad of ['2026-02-30T10:00:00+08:00', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2026-11-25 10:00', 'now']) {
      expect(isoInstant().safeParse(bad).success, bad).toBe(false);
    }
  });
});
