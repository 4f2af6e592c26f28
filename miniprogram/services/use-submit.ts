/**
 * The submit hook of the forms: busy while the request runs (a second tap does nothing), the
 * server's field errors by field (`ApiError.fields`, shown under each field), and its message,
 * complete and in Chinese, as a toast, or wherever the form shows it (`onMessage`). Anything that
 * is not an ApiError is a bug and is thrown on.
 */
import { useRef, useState } from 'react';
import Taro from '@tarojs/taro';
import { ApiError } from './api';

export type FieldErrors = Record<string, string>;

export function useSubmit(opts: { onMessage?: (message: string) => void } = {}) {
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<FieldErrors>({});
  // the state above is a render behind: a double tap within one render must still submit once
  const running = useRef(false);
  const submit = async (work: () => Promise<void>) => {
    if (running.current) return;
    running.current = true;
    setBusy(true);
    setErrors({});
    try {
      await work();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      setErrors(e.fields);
      if (opts.onMessage) opts.onMessage(e.message);
      else Taro.showToast({ title: e.message, icon: 'none' });
    } finally {
      running.current = false;
      setBusy(false);
    }
  };
  return { busy, errors, setErrors, submit };
}
