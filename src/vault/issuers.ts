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
// So each range below stands for one country, and a number outside Stripe's catalogue in a range
// that several of Stripe's countries share reads as the first of them: 400000|03… as Australia
// (Argentina's is 032), 400000|15… as Chile (China 156, Taiwan 158), 400000|19… as Croatia
// (Cyprus 196), 400000|20… as Czechia (Denmark 208), 400000|34… as Hungary (Hong Kong 344),
// 400000|44… as Lithuania (Luxembourg 442), 400000|60… as Paraguay (Peru 604), 400000|70… as
// Singapore (Slovakia 703, Slovenia 705), 400000|75… as Sweden (Switzerland 756). Stripe's own
// test numbers are not looked up here: the vault takes their country from the test card catalogue
// (test-cards.ts), so each reads as Stripe documents it. A real BIN database has no such overlap:
// one BIN, one issuer.

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
  // The rest of Stripe's cards by brand (JCB in Japan, UnionPay in China, the rest US), its Radar,
  // 3-D Secure, mobile challenge, PIN and HSA/FSA cards.
  { prefix: '22230031', country: 'US', example: '2223003122003222' },
  { prefix: '52008282', country: 'US', example: '5200828282828210' },
  { prefix: '60111111', country: 'US', example: '6011111111111117' },
  { prefix: '60110009', country: 'US', example: '6011000990139424' },
  { prefix: '60119811', country: 'US', example: '6011981111111113' },
  { prefix: '30569300', country: 'US', example: '3056930009020004' },
  { prefix: '362272', country: 'US', example: '36227206271667' },
  { prefix: '65559000', country: 'US', example: '6555900000604105' },
  { prefix: '35660020', country: 'JP', example: '3566002020360505' },
  { prefix: '62000000', country: 'CN', example: '6200000000000005' },
  { prefix: '62055000', country: 'CN', example: '6205500000000000004' },
  { prefix: '40000512', country: 'US', example: '4000051230000072' },
  { prefix: '40000584', country: 'US', example: '4000058400307872' },
  { prefix: '40005826', country: 'GB', example: '4000582600000094' },
  { prefix: '40010070', country: 'SG', example: '4001007020000002' },
  { prefix: '40010003', country: 'AU', example: '4001000360000005' },
  { prefix: '50622100', country: 'MX', example: '5062210000000009' },
  { prefix: '41000000', country: 'US', example: '4100000000000019' },
  { prefix: '40000084', country: 'US', example: '4000008400001629' },
  // Payrail's own simulator-fault cards (not Stripe's; test-cards.ts).
  { prefix: '40000099', country: 'US', example: '4000009990000013' },
  // Co-branded: Cartes Bancaires (FR) and eftpos (AU).
  { prefix: '55555525', country: 'FR', example: '5555552500001001' },
  { prefix: '40000503', country: 'AU', example: '4000050360000001' },
  { prefix: '55550503', country: 'AU', example: '5555050360000080' },
  // The rest of the Americas.
  { prefix: '40000015', country: 'CL', example: '4000001520000001' },
  { prefix: '40000017', country: 'CO', example: '4000001700000003' },
  { prefix: '40000018', country: 'CR', example: '4000001880000005' },
  { prefix: '40000021', country: 'EC', example: '4000002180000000' },
  { prefix: '40000059', country: 'PA', example: '4000005910000000' },
  { prefix: '40000060', country: 'PY', example: '4000006000000066' },
  { prefix: '40000085', country: 'UY', example: '4000008580000003' },
  // The rest of Europe, the Middle East and Africa.
  { prefix: '40000078', country: 'AE', example: '4000007840000001' },
  { prefix: '52000078', country: 'AE', example: '5200007840000022' },
  { prefix: '40000004', country: 'AT', example: '4000000400000008' },
  { prefix: '40000005', country: 'BE', example: '4000000560000004' },
  { prefix: '40000010', country: 'BG', example: '4000001000000000' },
  { prefix: '40000011', country: 'BY', example: '4000001120000005' },
  { prefix: '40000019', country: 'HR', example: '4000001910000009' },
  { prefix: '40000020', country: 'CZ', example: '4000002030000002' },
  { prefix: '40000023', country: 'EE', example: '4000002330000009' },
  { prefix: '40000024', country: 'FI', example: '4000002460000001' },
  { prefix: '40000029', country: 'GI', example: '4000002920000005' },
  { prefix: '40000030', country: 'GR', example: '4000003000000030' },
  { prefix: '40000034', country: 'HU', example: '4000003480000005' },
  { prefix: '40000037', country: 'IE', example: '4000003720000005' },
  { prefix: '40000042', country: 'LV', example: '4000004280000005' },
  { prefix: '40000043', country: 'LI', example: '4000004380000004' },
  { prefix: '40000044', country: 'LT', example: '4000004400000000' },
  { prefix: '40000047', country: 'MT', example: '4000004700000007' },
  { prefix: '40000057', country: 'NO', example: '4000005780000007' },
  { prefix: '40000061', country: 'PL', example: '4000006160000005' },
  { prefix: '40000062', country: 'PT', example: '4000006200000007' },
  { prefix: '40000064', country: 'RO', example: '4000006420000001' },
  { prefix: '40000068', country: 'SA', example: '4000006820000007' },
  { prefix: '40000075', country: 'SE', example: '4000007520000008' },
  // The rest of Asia-Pacific.
  { prefix: '40000045', country: 'MY', example: '4000004580000002' },
  { prefix: '40000055', country: 'NZ', example: '4000005540000008' },
  { prefix: '40000076', country: 'TH', example: '4000007640000003' },
  { prefix: '40000576', country: 'TH', example: '4000057640000008' },
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
