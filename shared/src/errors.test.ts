/**
 * Every code the client can receive carries a message a resident understands (issue 17 item 5):
 * Chinese, no schema or programming words, no code names, each sentence said once.
 */
import { describe, expect, it } from 'vitest';
import { ERRORS } from './errors';
import { SCHEMA_WORDS } from './zod-messages';

/** programming words and code names (BIND_FACT_MISMATCH) besides zod's schema vocabulary */
const CODE_WORDS = /invalid|error|exception|conflict|zod|[A-Z]{2,}_[A-Z]/i;

describe('the error catalogue', () => {
  for (const [code, { status, message }] of Object.entries(ERRORS)) {
    it(`${code} (${status}) reads as natural Chinese`, () => {
      expect(message).toMatch(/[\u4e00-\u9fff]/);
      expect(message).not.toMatch(SCHEMA_WORDS);
      expect(message).not.toMatch(CODE_WORDS);
      // "请稍后再试，请60分钟后再试": one retry sentence at most
      expect(message.match(/再试/g)?.length ?? 0).toBeLessThanOrEqual(1);
      expect(message).not.toMatch(/0次/);
    });
  }

  it('a conflict on a unique field has its own code, not the generic one', () => {
    expect(ERRORS.USERNAME_EXISTS.message).toContain('用户名已存在');
    expect(ERRORS.MEASUREMENT_DAY_TAKEN.message).toContain('当天已有测温预约');
    expect(ERRORS.AREA_CODE_EXISTS.message).toContain('已存在');
  });

  it('messages are distinct, so a message tells which problem it is', () => {
    const byMessage = new Map<string, string[]>();
    for (const [code, { message }] of Object.entries(ERRORS)) byMessage.set(message, [...(byMessage.get(message) ?? []), code]);
    const shared = [...byMessage.values()].filter((codes) => codes.length > 1);
    // the two "malformed request" codes say the same on purpose (neither is reachable from the app's own forms)
    expect(shared).toEqual([['MALFORMED_JSON', 'BAD_REQUEST']]);
  });
});
