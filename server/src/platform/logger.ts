import pino from 'pino';
import { maskPhone } from '@heat-butler/shared';

/** Fields whose values are personal data or secrets: masked or removed in every log line. */
const PHONE_PATHS = ['phone', 'contactPhone', '*.phone', '*.contactPhone'];
const SECRET_PATHS = [
  'token',
  '*.token',
  'password',
  '*.password',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'secret',
  '*.secret',
  'sessionKey',
  '*.sessionKey',
];

export type Logger = pino.Logger;

/** `destination`: where lines go (stdout by default; tests capture them). */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: {
        paths: [...PHONE_PATHS, ...SECRET_PATHS],
        censor: (value, path) => {
          const key = path[path.length - 1];
          if (key === 'phone' || key === 'contactPhone') return maskPhone(String(value ?? ''));
          return '[redacted]';
        },
      },
    },
    destination as pino.DestinationStream,
  );
}
