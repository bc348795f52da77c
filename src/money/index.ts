export {
  MAX_AMOUNT_MINOR,
  currencyExponent,
  isCurrency,
  listCurrencies,
  maxAmountMinor,
} from './currencies.ts';
export {
  MoneyError,
  add,
  addMinor,
  assertPositiveAmount,
  formatDecimal,
  money,
  multiplyMinor,
  parseDecimal,
  percentageOf,
  subtract,
  subtractMinor,
} from './money.ts';
export type { Money, MoneyErrorCode, Rounding } from './money.ts';
export { allocate, allocateEvenly } from './allocate.ts';
