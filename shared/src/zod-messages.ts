import { z } from 'zod';

/**
 * Validation messages residents and staff can read: natural Simplified Chinese with no schema
 * words (zod's own Chinese locale says "无效输入：期望 string，实际接收 undefined"). A schema's own
 * message (`z.string('请填写姓名')`) still wins; this covers every field that has none.
 */
type Issue = z.core.$ZodRawIssue & Record<string, any>;

const num = (n: unknown) => (typeof n === 'bigint' ? n.toString() : String(n));

export function naturalMessage(iss: Issue): string {
  switch (iss.code) {
    case 'invalid_type': {
      if (iss.input === undefined || iss.input === null) return '请填写此项';
      if (iss.expected === 'int' || iss.expected === 'number' || iss.expected === 'bigint') return '请填写数字';
      if (iss.expected === 'boolean') return '请选择是或否';
      if (iss.expected === 'array') return '请选择至少一项';
      if (iss.expected === 'object') return '内容格式不正确';
      return '填写的内容格式不正确';
    }
    case 'too_big': {
      const max = num(iss.maximum);
      if (iss.origin === 'string') return `不能超过${max}个字`;
      if (iss.origin === 'array' || iss.origin === 'set') return `最多${max}项`;
      if (iss.origin === 'date') return '日期太晚';
      return iss.inclusive === false ? `应小于${max}` : `不能大于${max}`;
    }
    case 'too_small': {
      const min = num(iss.minimum);
      if (iss.origin === 'string') return min === '1' ? '请填写此项' : `至少${min}个字`;
      if (iss.origin === 'array' || iss.origin === 'set') return min === '1' ? '请至少选择一项' : `至少${min}项`;
      if (iss.origin === 'date') return '日期太早';
      return iss.inclusive === false ? `应大于${min}` : `不能小于${min}`;
    }
    case 'invalid_format':
      if (iss.format === 'email') return '请填写正确的邮箱地址';
      if (iss.format === 'url') return '请填写正确的网址';
      if (iss.format === 'datetime' || iss.format === 'date') return '请填写正确的日期时间';
      return '格式不正确';
    case 'not_multiple_of':
      return '数值不符合要求';
    case 'invalid_value':
      return '请从给出的选项中选择';
    case 'unrecognized_keys':
      return '包含无法识别的内容';
    case 'invalid_union':
    case 'invalid_key':
    case 'invalid_element':
      return '填写的内容格式不正确';
    default:
      return '填写的内容不正确';
  }
}

/** Words of zod's vocabulary that must never reach a user (the test of every route checks it). */
export const SCHEMA_WORDS =
  /期望|实际接收|string|number|undefined|boolean|bigint|object|array|NaN|Infinity|regex|正则|键\(key\)|safeint|int\b|schema|nullish|null\b/i;

export function useNaturalMessages(): void {
  z.config({ customError: (iss) => naturalMessage(iss as Issue) });
}
