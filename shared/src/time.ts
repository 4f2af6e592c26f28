import { DateTime } from 'luxon';

/** Every business rule is evaluated in this zone; storage is UTC. */
export const BUSINESS_ZONE = 'Asia/Shanghai';

export function inChina(instant: Date | string | number): DateTime {
  const dt =
    instant instanceof Date
      ? DateTime.fromJSDate(instant)
      : typeof instant === 'number'
        ? DateTime.fromMillis(instant)
        : DateTime.fromISO(instant);
  return dt.setZone(BUSINESS_ZONE);
}

/** "2026-11-24 09:05" in China time, for residents and staff. */
export function formatChinaTime(instant: Date | string | number, withSeconds = false): string {
  return inChina(instant).toFormat(withSeconds ? 'yyyy-LL-dd HH:mm:ss' : 'yyyy-LL-dd HH:mm');
}

/** "2026-11-24" in China time. */
export function chinaDate(instant: Date | string | number): string {
  return inChina(instant).toFormat('yyyy-LL-dd');
}

/** RFC 3339 with +08:00 and no milliseconds, as WeChat Pay wants it. */
export function toWechatTime(instant: Date): string {
  return inChina(instant).toFormat("yyyy-LL-dd'T'HH:mm:ssZZ");
}
