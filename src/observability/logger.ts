// pino logger. Secrets never reach the log: auth headers and card fields are redacted wherever
// they appear; request logs carry the method, the URL with long digit runs masked, the peer and
// the request id; and, as the last line of defence, every line is written with its card numbers
// masked (architecture §1 rule 8).
import pino, { type Logger } from 'pino';
import type { LogLevel } from '../config.ts';
import { maskCardNumbers } from '../vault/card.ts';

/**
 * 12 or more digits, separated by nothing, a space, a dash, or a space encoded in a URL (`+`,
 * `%20`): the shape of a card number, which an id or a query parameter never has. Not checked
 * against Luhn: a mistyped card number is still one.
 */
const urlDigitRun = /\d(?:(?:[ +-]|%20)?\d){11,}/g;

/**
 * Query parameters that carry a person's data (`GET /v1/customers?email=…`, and a search's
 * `query=email:'…'`): their values are masked.
 */
const personalQueryValue = /([?&](?:email|query)=)[^&#]*/gi;

export function maskUrlDigits(url: string): string {
  return url.replace(urlDigitRun, '[redacted]').replace(personalQueryValue, '$1[redacted]');
}

type LoggedRequest = {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number } | null;
};

/** Fastify's request serializer, with the URL masked: a GET of a card number as an id must not log it. */
function requestSerializer(request: LoggedRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: request.url === undefined ? undefined : maskUrlDigits(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

/** pino starts every line with the level and the epoch-millisecond time, 13 digits that may pass Luhn. */
const linePrefix = /^\{"level":(?:\d+|"[a-z]+"),"time":\d+/;

/**
 * Masks Luhn-valid 13–19 digit runs in the finished line, after the time field. One place that
 * sees every field (messages, error messages and stacks, parameters echoed from a request, child
 * bindings), so no logging path can forget it. Per line it costs one anchored match and one
 * scan for 13 digits in a row, which a line without a long number fails at once.
 */
export function maskLine(line: string): string {
  const start = linePrefix.exec(line)?.[0].length ?? 0;
  const rest = line.slice(start);
  const masked = maskCardNumbers(rest);
  return masked === rest ? line : line.slice(0, start) + masked;
}

export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'payrail' },
      redact: {
        paths: [
          'req.headers.authorization',
          'headers.authorization',
          '*.card.number',
          '*.card.cvc',
          'card.number',
          'card.cvc',
          '*.secretKey',
          '*.secret_key',
        ],
        censor: '[redacted]',
      },
      // Fastify merges these over its own serializers.
      serializers: { req: requestSerializer },
      hooks: { streamWrite: maskLine },
    },
    destination,
  );
}

export type { Logger };
