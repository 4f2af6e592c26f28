import { useState } from 'react';
import { ApiError } from './api';

/**
 * A login screen's state: `attempt(login)` clears the error, shows the screen busy while `login`
 * runs, and puts its failure in `error` (the server's Chinese message, else 登录失败，请重试).
 */
export function useLoginAttempt(initialError = '') {
  const [error, setError] = useState(initialError);
  const [busy, setBusy] = useState(false);
  const attempt = async (login: () => Promise<void>) => {
    setError('');
    setBusy(true);
    try {
      await login();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : '登录失败，请重试');
    } finally {
      setBusy(false);
    }
  };
  return { error, setError, busy, attempt };
}
