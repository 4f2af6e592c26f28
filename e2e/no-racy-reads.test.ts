/**
 * A guard over the browser tests themselves: a page's text, attributes or element counts are read
 * only through retrying assertions (`expect.poll(() => locator.innerText())…`), never once into a
 * plain `expect` right after a presence check, which races the page's next render on a busy
 * machine (e2e/repair.test.ts once read '重点住户（0）' before the list under it had rendered).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const DIR = __dirname;
const READS = 'innerText|textContent|allInnerTexts|allTextContents|getAttribute|inputValue|isVisible|isChecked';

/** Every one-shot read of the page that a plain expect asserts on, as "file:line: code". */
export function racyReads(file: string, source: string): string[] {
  const found: string[] = [];
  const lines = source.split('\n');
  const captured = new Set<string>();
  lines.forEach((line, i) => {
    const where = `${path.basename(file)}:${i + 1}: ${line.trim()}`;
    // expect(await page.locator(…).innerText()) / expect(await x.count())
    if (new RegExp(`(^|[^.\\w])expect\\(await [^;]*\\.(${READS})\\(`).test(line)) found.push(where);
    else if (/(^|[^.\w])expect\(await [^;]*(locator|getBy\w+|\w+\(\))[^;]*\.count\(\)\)/.test(line) && !/getRepository|\.ds\./.test(line)) found.push(where);
    // const text = await card.innerText(); … expect(text)…
    const m = new RegExp(`const (\\w+) = await [^;]*\\.(${READS})\\(`).exec(line);
    if (m) captured.add(m[1]!);
    for (const v of captured) if (new RegExp(`(^|[^.\\w])expect\\(${v}\\)`).test(line)) found.push(where);
  });
  return found;
}

describe('browser tests read the page only through retrying assertions', () => {
  it('finds no one-shot read asserted with a plain expect in e2e/', () => {
    const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.test.ts') && f !== path.basename(__filename));
    expect(files.length).toBeGreaterThan(3);
    const found = files.flatMap((f) => racyReads(f, fs.readFileSync(path.join(DIR, f), 'utf8')));
    expect(found).toEqual([]);
  });

  it('would catch the read that raced the watch list', () => {
    const racy = [
      "    await expect.poll(() => boss.locator('[data-watch-households]').count(), { timeout: 10_000 }).toBe(1);",
      "    expect(await boss.locator('[data-watch-households]').innerText()).toContain('没有需要重点关注的住户');",
      "    expect(await card.locator('[data-report-form]').count()).toBe(1);",
      '    const text = await detailPage().innerText();',
      "    expect(text).toContain('已完结');",
    ].join('\n');
    expect(racyReads('x.test.ts', racy)).toHaveLength(3);
    const retrying = "    await expect.poll(() => boss.locator('[data-watch-households]').innerText(), { timeout: 10_000 }).toContain('没有');";
    expect(racyReads('x.test.ts', retrying)).toEqual([]);
  });
});
