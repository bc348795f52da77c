// pino logger. Secrets never reach the log: auth headers and card fields are redacted wherever
// they appear, and request logs carry only method, url and the request id.
import pino, { type Logger } from 'pino';
import type { LogLevel } from '../config.ts';

export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'payrail' },
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization', '*.card.number', '*.card.cvc', 'card.number', 'card.cvc', '*.secretKey', '*.secret_key'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

export type { Logger };
