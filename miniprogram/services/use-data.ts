/**
 * The data hook of the pages: what a page shows from the API with its loading and error state, and
 * reload. The error is kept (and shown by <LoadError>, in Chinese: the server's message from the
 * error catalogue, or the network's) instead of being swallowed by a `.catch(() => undefined)`.
 */
import { useEffect, useRef, useState } from 'react';
import { useDidShow } from '@tarojs/taro';
import { ApiError } from './api';

export interface DataState<T> {
  data: T | undefined;
  error: ApiError | null;
  loading: boolean;
  /** load again (the answer of the latest load wins over earlier ones still under way) */
  reload: () => Promise<void>;
  /** replace the data (after an action answered the new state) */
  setData: (data: T) => void;
}

export interface DataOptions {
  /** load on every show of the page (tab pages, pages returned to), else on mount */
  onShow?: boolean;
  /**
   * false: don't load (e.g. nobody logged in); the data is cleared. A function is asked at each
   * load (a tab page shown again after the login reads the session as it is then).
   */
  enabled?: boolean | (() => boolean);
}

/** Any failure as an ApiError with a Chinese message. */
export function asApiError(err: unknown): ApiError {
  return err instanceof ApiError ? err : new ApiError('INTERNAL', '加载失败，请稍后再试', 0, { cause: String((err as Error)?.message ?? err) });
}

/**
 * `load` runs on mount (or on each show with `onShow`) and again whenever a value in `deps` changes.
 */
export function useData<T>(load: () => Promise<T>, deps: readonly unknown[] = [], opts: DataOptions = {}): DataState<T> {
  const enabledOpt = opts.enabled ?? true;
  const enabledNow = () => (typeof enabledOpt === 'function' ? enabledOpt() : enabledOpt);
  const enabled = enabledNow();
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(false);
  const seq = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const enabledRef = useRef(enabledNow);
  enabledRef.current = enabledNow;

  const reload = async (): Promise<void> => {
    const n = ++seq.current;
    if (!enabledRef.current()) {
      setData(undefined);
      setError(null);
      setLoading(false);
      return;
    }
    setLoading(true);
    try {
      const d = await loadRef.current();
      if (n !== seq.current) return;
      setData(d);
      setError(null);
    } catch (err) {
      if (n === seq.current) setError(asApiError(err));
    } finally {
      if (n === seq.current) setLoading(false);
    }
  };

  useDidShow(() => {
    if (opts.onShow) void reload();
  });
  // on mount (unless the first show loads it) and when deps change
  const mounted = useRef(false);
  useEffect(() => {
    const first = !mounted.current;
    mounted.current = true;
    if (first && opts.onShow) return;
    void reload();
  }, [...deps, enabled]);

  return { data, error, loading, reload, setData };
}
