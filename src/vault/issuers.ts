// The issuing country of a card, from its BIN (the leading digits), so that routing rules on card
// country can match. Pure functions, no I/O.
//
// TEST-MODE TABLE. The prefixes below are those of the test cards Stripe documents ("Cards by
// country" and the cards by brand, all US), not real issuers' ranges: a real card, even a US one,
// is unknown (null) here. A real deployment passes a lookup over a BIN database (a licensed BIN
// file, or the acquirer's BIN table) as VaultOptions.issuerCountry.
//
// Privacy (architecture §1 rule 8): a lookup sees only the BIN, never the number: the first 8 digits of a
// number of 16 or more digits, the first 6 of a shorter one (PCI DSS's limits for digits that may
// be shown next to the last 4). The country stored with a card therefore says nothing the BIN does
// not. The cost: Stripe's country cards carry the ISO 3166 numeric code in digits 7–9
// (4000000760000002 is 400000|076|…, Brazil), and 8 digits see only the first two of those three.
// So each range below stands for one country, and Stripe's cards for countries that share it read
// as that country: Argentina's (032) as Australia (036), Slovakia's (703) and Slovenia's (705) as
// Singapore (702). A real BIN database has no such overlap: one BIN, one issuer.

/** A lookup from a BIN (6 or 8 digits) to an ISO 3166-1 alpha-2 country, or null when unknown. */
export type IssuerCountryLookup = (bin: string) => string | null;

export const binLengthShort = 6;
export const binLengthLong = 8;
/** Numbers of at least this many digits have an 8-digit BIN; shorter ones a 6-digit BIN. */
export const longBinNumberLengthMin = 16;

const countryPattern = /^[A-Z]{2}$/;

export type IssuerRange = {
  /** 6 to 8 leading digits; a 7- or 8-digit prefix only ever matches numbers of 16+ digits. */
  readonly prefix: string;
  readonly country: string;
  /** Stripe's test card in this range (passes Luhn; the simulator approves it). */
  readonly example: string;
};

// No prefix is a prefix of another, so the order does not matter (a unit test checks it).
export const testIssuerRanges: readonly IssuerRange[] = [
  // United States: Stripe's cards by brand and its scenario cards (4000 0000 0000 xxxx).
  { prefix: '42424242', country: 'US', example: '4242424242424242' },
  { prefix: '40000000', country: 'US', example: '4000000000000002' },
  { prefix: '40000566', country: 'US', example: '4000056655665556' },
  { prefix: '55555555', country: 'US', example: '5555555555554444' },
  { prefix: '51051051', country: 'US', example: '5105105105105100' },
  { prefix: '378282', country: 'US', example: '378282246310005' },
  { prefix: '371449', country: 'US', example: '371449635398431' },
  // Americas
  { prefix: '40000007', country: 'BR', example: '4000000760000002' },
  { prefix: '40000012', country: 'CA', example: '4000001240000000' },
  { prefix: '40000048', country: 'MX', example: '4000004840008001' },
  // Europe
  { prefix: '40000082', country: 'GB', example: '4000008260000000' },
  { prefix: '40000582', country: 'GB', example: '4000058260000005' },
  { prefix: '55555582', country: 'GB', example: '5555558265554449' },
  { prefix: '40000027', country: 'DE', example: '4000002760000016' },
  { prefix: '40000025', country: 'FR', example: '4000002500000003' },
  { prefix: '40000072', country: 'ES', example: '4000007240000007' },
  { prefix: '40000038', country: 'IT', example: '4000003800000008' },
  { prefix: '40000052', country: 'NL', example: '4000005280000002' },
  // Asia Pacific
  { prefix: '40000035', country: 'IN', example: '4000003560000008' },
  { prefix: '40000039', country: 'JP', example: '4000003920000003' },
  { prefix: '35301113', country: 'JP', example: '3530111333300000' },
  { prefix: '40000070', country: 'SG', example: '4000007020000003' },
  { prefix: '40000003', country: 'AU', example: '4000000360000006' },
];

/** The BIN of a number (digits only): all that an issuer lookup may see of it. */
export function binOf(number: string): string {
  return number.slice(0, number.length >= longBinNumberLengthMin ? binLengthLong : binLengthShort);
}

/** The test-mode lookup: the country of the range whose prefix starts the BIN, else null. */
export function testIssuerCountry(bin: string): string | null {
  return testIssuerRanges.find((range) => bin.startsWith(range.prefix))?.country ?? null;
}

/**
 * The issuing country of a validated number, through `lookup` (which sees only the BIN). A lookup
 * that answers anything but an alpha-2 code or null is a bug in the lookup: it throws.
 */
export function issuerCountryOf(
  number: string,
  lookup: IssuerCountryLookup = testIssuerCountry,
): string | null {
  const country = lookup(binOf(number));
  if (country !== null && (typeof country !== 'string' || !countryPattern.test(country))) {
    throw new Error(
      'vault: the issuer country lookup must answer an ISO 3166-1 alpha-2 code in capitals, or null',
    );
  }
  return country;
}
