import { useEffect, useRef } from 'react';
import { useDidHide, useDidShow } from '@tarojs/taro';

/** The waits between polls: quick at first (an invoice usually takes 10–30 s), then slower, at most 30 s. */
export const POLL_BACKOFF_MS = [2_000, 3_000, 5_000, 8_000, 13_000, 21_000, 30_000] as const;

/**
 * Reload while `active` (e.g. an invoice is 开具中), waiting longer after each poll; stops as soon
 * as `active` turns false, while the page is hidden, and on unmount. A new activity starts again
 * from the shortest wait. `data` is what the reload gives: each new answer schedules the next poll.
 */
export function usePoll(active: boolean, reload: () => Promise<void>, data: unknown, backoff: readonly number[] = POLL_BACKOFF_MS): void {
  const reloadRef = useRef(reload);
  reloadRef.current = reload;
  const attempt = useRef(0);
  const visible = useRef(true);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const clear = () => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
  };
  const schedule = () => {
    clear();
    if (!visible.current) return;
    const wait = backoff[Math.min(attempt.current, backoff.length - 1)]!;
    timer.current = setTimeout(() => {
      timer.current = null;
      attempt.current++;
      void reloadRef.current().catch(() => undefined);
    }, wait);
  };
  useEffect(() => {
    if (!active) {
      attempt.current = 0;
      clear();
      return;
    }
    schedule();
    return clear;
  }, [active, data]);
  useDidHide(() => {
    visible.current = false;
    clear();
  });
  useDidShow(() => {
    if (visible.current) return;
    visible.current = true;
    attempt.current = 0;
    if (active) schedule();
  });
}
