// Radar's value lists: what a list may hold and how a value is written in it. A value is
// normalized once when added (emails lowercase, countries uppercase, IP addresses canonical), and
// the value a rule looks up is normalized the same way, so `:email: in @blocked_emails` matches
// whatever case the payment gave. A list never holds a card number: cards are listed by
// fingerprint or BIN.
import net from 'node:net';
import { looksLikeCardNumber } from '../vault/card.ts';
import { invalidRiskParameter } from './errors.ts';

/** Stripe's item types (the bank-account fingerprints aside: Payrail takes cards only). */
export const valueListItemTypes = [
  'card_fingerprint',
  'card_bin',
  'email',
  'ip_address',
  'country',
  'string',
  'case_sensitive_string',
  'customer_id',
] as const;
export type ValueListItemType = (typeof valueListItemTypes)[number];

/** Stripe's limits: aliases and names of at most 100 characters, values of at most 800. */
export const aliasLengthMax = 100;
export const listNameLengthMax = 100;
export const itemValueLengthMax = 800;
/** Bounds per merchant and per list, so that one merchant's cached lists stay small. */
export const valueListsPerMerchantMax = 100;
export const itemsPerListMax = 10_000;

/** Letters, digits, `_` and `-`: what follows `@` in a rule (the rule lexer reads the same). */
const aliasPattern = /^[A-Za-z0-9_-]{1,100}$/;
const binPattern = /^\d{6,8}$/;
const countryPattern = /^[A-Z]{2}$/;
const identifierPattern = /^[A-Za-z0-9_-]{1,100}$/;
const emailLengthMax = 320;

export function checkAlias(alias: string, param = 'alias'): string {
  if (!aliasPattern.test(alias))
    throw invalidRiskParameter(
      param,
      `Invalid ${param}: 1 to ${aliasLengthMax} letters, digits, _ or - (it is written @alias in rules).`,
    );
  return alias;
}

/** An IP address in its canonical form (IPv6 compressed and lowercase), or undefined. */
export function canonicalIpAddress(value: string): string | undefined {
  const kind = net.isIP(value);
  if (kind === 4) return value;
  if (kind !== 6) return undefined;
  // The WHATWG URL parser writes IPv6 hosts in RFC 5952's canonical form.
  return new URL(`http://[${value}]/`).hostname.slice(1, -1);
}

function invalidValue(itemType: ValueListItemType, detail: string): Error {
  return invalidRiskParameter('value', `Invalid value for a ${itemType} list: ${detail}.`);
}

/** The value as stored in a list of this type; refused (naming `value`) when it cannot be one. */
export function normalizeItemValue(itemType: ValueListItemType, raw: string): string {
  const value = raw.trim();
  if (value.length === 0 || value.length > itemValueLengthMax)
    throw invalidValue(itemType, `1 to ${itemValueLengthMax} characters`);
  if (looksLikeCardNumber(value))
    throw invalidRiskParameter(
      'value',
      'A value list never holds a card number: list the card by card_fingerprint or card_bin.',
    );
  switch (itemType) {
    case 'email': {
      const email = value.toLowerCase();
      const at = email.indexOf('@');
      if (email.length > emailLengthMax || at < 1 || at === email.length - 1)
        throw invalidValue(itemType, 'an email address');
      return email;
    }
    case 'country': {
      const country = value.toUpperCase();
      if (!countryPattern.test(country))
        throw invalidValue(itemType, 'a two-letter ISO 3166-1 country code');
      return country;
    }
    case 'ip_address': {
      const address = canonicalIpAddress(value);
      if (address === undefined) throw invalidValue(itemType, 'an IPv4 or IPv6 address');
      return address;
    }
    case 'card_bin':
      if (!binPattern.test(value)) throw invalidValue(itemType, '6 to 8 digits');
      return value;
    case 'card_fingerprint':
    case 'customer_id':
      if (!identifierPattern.test(value))
        throw invalidValue(itemType, 'letters, digits, _ or -, at most 100');
      return value;
    case 'string':
      return value.toLowerCase();
    case 'case_sensitive_string':
      return value;
  }
}

/**
 * The form a looked-up value takes before it is compared with a list's stored values: the same
 * normalization, without refusing (a value that cannot be on the list simply is not found).
 */
export function lookupForm(itemType: ValueListItemType, value: string): string {
  switch (itemType) {
    case 'email':
    case 'string':
      return value.toLowerCase();
    case 'country':
      return value.toUpperCase();
    case 'ip_address':
      return canonicalIpAddress(value) ?? value;
    default:
      return value;
  }
}
