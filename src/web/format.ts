// How pages show money and time: amounts exact (from the integer minor units, never through a
// float), in the currency's own format (¥1,500, $12.34, 12,34 €), times in UTC.
import { currencyExponent, formatDecimal } from '../money/index.ts';

const formats = new Map<string, Intl.NumberFormat>();

/** `1234n, 'usd'` → `$12.34`; `1500n, 'jpy'` → `¥1,500`. */
export function formatMoney(amount: bigint, currency: string, locale = 'en-US'): string {
  const code = currency.toUpperCase();
  const key = `${locale}:${code}`;
  let format = formats.get(key);
  if (format === undefined) {
    // Payrail's exponent for the currency, not Intl's own idea of it: the digits shown are the
    // minor units stored.
    const exponent = currencyExponent(currency);
    try {
      format = new Intl.NumberFormat(locale, {
        style: 'currency',
        currency: code,
        minimumFractionDigits: exponent,
        maximumFractionDigits: exponent,
      });
    } catch {
      // A code Intl does not take: the exact decimal and the code.
      return `${formatDecimal(amount, currency)} ${code}`;
    }
    formats.set(key, format);
  }
  // A decimal string keeps every digit (Intl formats strings exactly, without a float).
  return format.format(formatDecimal(amount, currency) as Intl.StringNumericLiteral);
}

/** `2026-12-06 18:40:05 UTC`. */
export function formatTime(at: Date): string {
  return `${at.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
