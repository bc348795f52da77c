export {
  MAX_AMOUNT_MINOR,
  currencyExponent,
  isCurrency,
  listCurrencies,
  maxAmountMinor,
} from './currencies.ts';
export {
  MoneyError,
  assertPositiveAmount,
  formatDecimal,
  parseDecimal,
  percentageOf,
} from './money.ts';
export type { MoneyErrorCode, Rounding } from './money.ts';
