// Stripe's test card catalogue (docs.stripe.com/testing): every card number Stripe lists, the
// test PaymentMethod ids (`pm_card_visa`) and the test tokens (`tok_visa`) that stand for them,
// plus Payrail's own simulator-fault cards. Pure data and pure look-ups, no I/O.
//
// - A test PaymentMethod id resolves, for a test merchant, to a fixed card that every merchant can
//   use without creating it. It lives only in this table, never in the payment_methods table
//   (stored ids are `pm_` + base62, so the two can never collide). All expire 12/2034.
// - A test token is accepted as `card[token]` in payment_methods.create (and as
//   `payment_method_data[card][token]`): it creates a stored payment method with the token's card,
//   as Stripe does. `testToken(id)` is the one look-up.
// - What a payment with each number does is the simulator's business (sim/cards.ts, which answers
//   each number as Stripe documents); this table only says which card a name stands for.
//
// Payrail's simulator-fault cards (a PSP error, a timeout, a lost response) use numbers Stripe does
// not list (4000 0099 90…): Stripe's own numbers keep Stripe's outcomes (decisions.md).
import type { CardBrand } from './card.ts';
import { brandOf } from './card.ts';

export const testCardExpiryMonth = 12;
export const testCardExpiryYear = 2034;
/** A fixed creation time, so that a test card looks the same on every call. */
export const testCardCreatedAt = new Date('2024-01-01T00:00:00.000Z');

/** What kind of account the card draws on, as Stripe's `card.funding` names it. */
export type CardFunding = 'credit' | 'debit' | 'prepaid' | 'unknown';

/** The section of docs.stripe.com/testing a number is listed in. */
export type TestCardSection =
  | 'brand'
  | 'co-branded'
  | 'country'
  | 'decline'
  | 'fraud'
  | 'invalid'
  | 'dispute'
  | 'refund'
  | 'balance'
  | '3ds'
  | 'other'
  | 'payrail';

type Entry = {
  readonly number: string;
  /** ISO 3166-1 alpha-2 issuing country, as Stripe documents it. */
  readonly country: string;
  readonly funding?: CardFunding;
  readonly section: TestCardSection;
  /** Test PaymentMethod ids for this number. */
  readonly ids?: readonly string[];
  /** Test tokens for this number. */
  readonly tokens?: readonly string[];
};

const card = (
  section: TestCardSection,
  number: string,
  country: string,
  names: { ids?: readonly string[]; tokens?: readonly string[]; funding?: CardFunding } = {},
): Entry => ({ section, number, country, ...names });

// ids and tokens follow Stripe's names; where Stripe names only one of them, only that one.
const entries: readonly Entry[] = [
  // Cards by brand (all US).
  card('brand', '4242424242424242', 'US', { ids: ['pm_card_visa'], tokens: ['tok_visa'] }),
  card('brand', '4000056655665556', 'US', {
    ids: ['pm_card_visa_debit'],
    tokens: ['tok_visa_debit'],
    funding: 'debit',
  }),
  card('brand', '5555555555554444', 'US', {
    ids: ['pm_card_mastercard'],
    tokens: ['tok_mastercard'],
  }),
  card('brand', '2223003122003222', 'US'),
  card('brand', '5200828282828210', 'US', {
    ids: ['pm_card_mastercard_debit'],
    tokens: ['tok_mastercard_debit'],
    funding: 'debit',
  }),
  card('brand', '5105105105105100', 'US', {
    ids: ['pm_card_mastercard_prepaid'],
    tokens: ['tok_mastercard_prepaid'],
    funding: 'prepaid',
  }),
  card('brand', '378282246310005', 'US', {
    ids: ['pm_card_amex', 'pm_card_amex_threeDSecureNotSupported'],
    tokens: ['tok_amex', 'tok_amex_threeDSecureNotSupported'],
  }),
  card('brand', '371449635398431', 'US'),
  card('brand', '6011111111111117', 'US', { ids: ['pm_card_discover'], tokens: ['tok_discover'] }),
  card('brand', '6011000990139424', 'US'),
  card('brand', '6011981111111113', 'US', { funding: 'debit' }),
  card('brand', '3056930009020004', 'US', { ids: ['pm_card_diners'], tokens: ['tok_diners'] }),
  card('brand', '36227206271667', 'US'),
  card('brand', '6555900000604105', 'US'),
  // JCB and UnionPay are issued outside the US (Stripe: "such as JCB and UnionPay"); its country
  // table lists pm_card_jcb and tok_jcb under Japan.
  card('brand', '3566002020360505', 'JP', { ids: ['pm_card_jcb'], tokens: ['tok_jcb'] }),
  card('brand', '6200000000000005', 'CN', { ids: ['pm_card_unionpay'], tokens: ['tok_unionpay'] }),
  card('brand', '6200000000000047', 'CN', { funding: 'debit' }),
  card('brand', '6205500000000000004', 'CN'),
  // Co-branded cards: Cartes Bancaires and eftpos Australia beside Visa or Mastercard.
  card('co-branded', '4000002500001001', 'FR', {
    ids: ['pm_card_visa_cartesBancaires'],
    tokens: ['tok_visa_cartesBancaires'],
  }),
  card('co-branded', '5555552500001001', 'FR', {
    ids: ['pm_card_mastercard_cartesBancaires'],
    tokens: ['tok_mastercard_cartesBancaires'],
  }),
  card('co-branded', '4000050360000001', 'AU', {
    ids: ['pm_card_visa_debit_eftposAuCoBranded'],
    tokens: ['tok_visa_debit_eftposAuCoBranded'],
    funding: 'debit',
  }),
  card('co-branded', '5555050360000080', 'AU', {
    ids: ['pm_card_mastercard_debit_eftposAuCoBranded'],
    tokens: ['tok_mastercard_debit_eftposAuCoBranded'],
    funding: 'debit',
  }),
  // HSA and FSA cards (debit).
  card('brand', '4000051230000072', 'US', {
    ids: ['pm_card_debit_visaFsaProductCode', 'pm_card_debit_visaHsaProductCode'],
    funding: 'debit',
  }),
  card('brand', '5200828282828897', 'US', {
    ids: ['pm_card_mastercard_debit_mastercardFsaProductCode'],
    funding: 'debit',
  }),
  // Cards by country: the Americas.
  card('country', '4000000760000002', 'BR', { ids: ['pm_card_br'], tokens: ['tok_br'] }),
  card('country', '4000000320000021', 'AR', { ids: ['pm_card_ar'], tokens: ['tok_ar'] }),
  card('country', '4000001240000000', 'CA', { ids: ['pm_card_ca'], tokens: ['tok_ca'] }),
  card('country', '4000001520000001', 'CL', { ids: ['pm_card_cl'], tokens: ['tok_cl'] }),
  card('country', '4000001700000003', 'CO', { ids: ['pm_card_co'], tokens: ['tok_co'] }),
  card('country', '4000001880000005', 'CR', { ids: ['pm_card_cr'], tokens: ['tok_cr'] }),
  card('country', '4000002180000000', 'EC', { ids: ['pm_card_ec'], tokens: ['tok_ec'] }),
  card('country', '4000004840008001', 'MX', { ids: ['pm_card_mx'], tokens: ['tok_mx'] }),
  // Carnet: a brand Stripe's card.brand has no name for ('unknown').
  card('country', '5062210000000009', 'MX'),
  card('country', '4000005910000000', 'PA', { ids: ['pm_card_pa'], tokens: ['tok_pa'] }),
  card('country', '4000006000000066', 'PY', { ids: ['pm_card_py'], tokens: ['tok_py'] }),
  card('country', '4000006040000068', 'PE', { ids: ['pm_card_pe'], tokens: ['tok_pe'] }),
  card('country', '4000008580000003', 'UY', { ids: ['pm_card_uy'], tokens: ['tok_uy'] }),
  // Europe and the Middle East. AE, EE, GI, HR and LI were listed in earlier versions of the page.
  card('country', '4000007840000001', 'AE', { ids: ['pm_card_ae'], tokens: ['tok_ae'] }),
  card('country', '5200007840000022', 'AE', {
    ids: ['pm_card_ae_mastercard'],
    tokens: ['tok_ae_mastercard'],
  }),
  card('country', '4000000400000008', 'AT', { ids: ['pm_card_at'], tokens: ['tok_at'] }),
  card('country', '4000000560000004', 'BE', { ids: ['pm_card_be'], tokens: ['tok_be'] }),
  card('country', '4000001000000000', 'BG', { ids: ['pm_card_bg'], tokens: ['tok_bg'] }),
  card('country', '4000001120000005', 'BY', { ids: ['pm_card_by'], tokens: ['tok_by'] }),
  card('country', '4000001910000009', 'HR', { ids: ['pm_card_hr'], tokens: ['tok_hr'] }),
  card('country', '4000001960000008', 'CY', { ids: ['pm_card_cy'], tokens: ['tok_cy'] }),
  card('country', '4000002030000002', 'CZ', { ids: ['pm_card_cz'], tokens: ['tok_cz'] }),
  card('country', '4000002080000001', 'DK', { ids: ['pm_card_dk'], tokens: ['tok_dk'] }),
  card('country', '4000002330000009', 'EE', { ids: ['pm_card_ee'], tokens: ['tok_ee'] }),
  card('country', '4000002460000001', 'FI', { ids: ['pm_card_fi'], tokens: ['tok_fi'] }),
  card('country', '4000002500000003', 'FR', { ids: ['pm_card_fr'], tokens: ['tok_fr'] }),
  card('country', '4000002760000016', 'DE', { ids: ['pm_card_de'], tokens: ['tok_de'] }),
  card('country', '4000002920000005', 'GI', { ids: ['pm_card_gi'], tokens: ['tok_gi'] }),
  card('country', '4000003000000030', 'GR', { ids: ['pm_card_gr'], tokens: ['tok_gr'] }),
  card('country', '4000003480000005', 'HU', { ids: ['pm_card_hu'], tokens: ['tok_hu'] }),
  card('country', '4000003720000005', 'IE', { ids: ['pm_card_ie'], tokens: ['tok_ie'] }),
  card('country', '4000003800000008', 'IT', { ids: ['pm_card_it'], tokens: ['tok_it'] }),
  card('country', '4000004280000005', 'LV', { ids: ['pm_card_lv'], tokens: ['tok_lv'] }),
  card('country', '4000004380000004', 'LI', { ids: ['pm_card_li'], tokens: ['tok_li'] }),
  card('country', '4000004400000000', 'LT', { ids: ['pm_card_lt'], tokens: ['tok_lt'] }),
  card('country', '4000004420000006', 'LU', { ids: ['pm_card_lu'], tokens: ['tok_lu'] }),
  card('country', '4000004700000007', 'MT', { ids: ['pm_card_mt'], tokens: ['tok_mt'] }),
  card('country', '4000005280000002', 'NL', { ids: ['pm_card_nl'], tokens: ['tok_nl'] }),
  card('country', '4000005780000007', 'NO', { ids: ['pm_card_no'], tokens: ['tok_no'] }),
  card('country', '4000006160000005', 'PL', { ids: ['pm_card_pl'], tokens: ['tok_pl'] }),
  card('country', '4000006200000007', 'PT', { ids: ['pm_card_pt'], tokens: ['tok_pt'] }),
  card('country', '4000006420000001', 'RO', { ids: ['pm_card_ro'], tokens: ['tok_ro'] }),
  card('country', '4000006820000007', 'SA', { ids: ['pm_card_sa'], tokens: ['tok_sa'] }),
  card('country', '4000007050000006', 'SI', { ids: ['pm_card_si'], tokens: ['tok_si'] }),
  card('country', '4000007030000001', 'SK', { ids: ['pm_card_sk'], tokens: ['tok_sk'] }),
  card('country', '4000007240000007', 'ES', { ids: ['pm_card_es'], tokens: ['tok_es'] }),
  card('country', '4000007520000008', 'SE', { ids: ['pm_card_se'], tokens: ['tok_se'] }),
  card('country', '4000007560000009', 'CH', { ids: ['pm_card_ch'], tokens: ['tok_ch'] }),
  card('country', '4000008260000000', 'GB', { ids: ['pm_card_gb'], tokens: ['tok_gb'] }),
  card('country', '4000058260000005', 'GB', {
    ids: ['pm_card_gb_debit'],
    tokens: ['tok_gb_debit'],
    funding: 'debit',
  }),
  card('country', '5555558265554449', 'GB', {
    ids: ['pm_card_gb_mastercard'],
    tokens: ['tok_gb_mastercard'],
  }),
  // Asia-Pacific.
  card('country', '4000000360000006', 'AU', { ids: ['pm_card_au'], tokens: ['tok_au'] }),
  card('country', '4000001560000002', 'CN', { ids: ['pm_card_cn'], tokens: ['tok_cn'] }),
  card('country', '4000003440000004', 'HK', { ids: ['pm_card_hk'], tokens: ['tok_hk'] }),
  card('country', '4000003560000008', 'IN', { ids: ['pm_card_in'], tokens: ['tok_in'] }),
  card('country', '4000003920000003', 'JP', { ids: ['pm_card_jp'], tokens: ['tok_jp'] }),
  card('country', '3530111333300000', 'JP'),
  card('country', '4000004580000002', 'MY', { ids: ['pm_card_my'], tokens: ['tok_my'] }),
  card('country', '4000005540000008', 'NZ', { ids: ['pm_card_nz'], tokens: ['tok_nz'] }),
  card('country', '4000007020000003', 'SG', { ids: ['pm_card_sg'], tokens: ['tok_sg'] }),
  card('country', '4000001580000008', 'TW', { ids: ['pm_card_tw'], tokens: ['tok_tw'] }),
  card('country', '4000007640000003', 'TH', {
    ids: ['pm_card_th_credit'],
    tokens: ['tok_th_credit'],
  }),
  card('country', '4000057640000008', 'TH', {
    ids: ['pm_card_th_debit'],
    tokens: ['tok_th_debit'],
    funding: 'debit',
  }),
  // Declined payments.
  card('decline', '4000000000000002', 'US', {
    ids: ['pm_card_visa_chargeDeclined', 'pm_card_chargeDeclined'],
    tokens: ['tok_visa_chargeDeclined', 'tok_chargeDeclined'],
  }),
  card('decline', '4000000000009995', 'US', {
    ids: [
      'pm_card_visa_chargeDeclinedInsufficientFunds',
      'pm_card_chargeDeclinedInsufficientFunds',
    ],
    tokens: ['tok_visa_chargeDeclinedInsufficientFunds', 'tok_chargeDeclinedInsufficientFunds'],
  }),
  card('decline', '4000000000009987', 'US', {
    ids: ['pm_card_visa_chargeDeclinedLostCard', 'pm_card_chargeDeclinedLostCard'],
    tokens: ['tok_visa_chargeDeclinedLostCard', 'tok_chargeDeclinedLostCard'],
  }),
  card('decline', '4000000000009979', 'US', {
    ids: ['pm_card_visa_chargeDeclinedStolenCard', 'pm_card_chargeDeclinedStolenCard'],
    tokens: ['tok_visa_chargeDeclinedStolenCard', 'tok_chargeDeclinedStolenCard'],
  }),
  card('decline', '4000000000000069', 'US', {
    ids: ['pm_card_chargeDeclinedExpiredCard'],
    tokens: ['tok_chargeDeclinedExpiredCard', 'tok_visa_chargeDeclinedExpiredCard'],
  }),
  card('decline', '4000000000000127', 'US', {
    ids: ['pm_card_chargeDeclinedIncorrectCvc'],
    tokens: ['tok_chargeDeclinedIncorrectCvc', 'tok_visa_chargeDeclinedIncorrectCvc'],
  }),
  card('decline', '4000000000000119', 'US', {
    ids: ['pm_card_chargeDeclinedProcessingError'],
    tokens: ['tok_chargeDeclinedProcessingError', 'tok_visa_chargeDeclinedProcessingError'],
  }),
  card('decline', '4000000000006975', 'US', {
    ids: ['pm_card_visa_chargeDeclinedVelocityLimitExceeded'],
    tokens: ['tok_visa_chargeDeclinedVelocityLimitExceeded'],
  }),
  card('decline', '4000000000000341', 'US', {
    ids: ['pm_card_chargeCustomerFail'],
    tokens: ['tok_chargeCustomerFail', 'tok_visa_chargeCustomerFail'],
  }),
  // Fraud prevention (Radar).
  card('fraud', '4100000000000019', 'US', {
    ids: ['pm_card_radarBlock', 'pm_card_chargeDeclinedFraudulent'],
    tokens: ['tok_radarBlock', 'tok_chargeDeclinedFraudulent', 'tok_visa_chargeDeclinedFraudulent'],
  }),
  card('fraud', '4000000000004954', 'US', {
    ids: ['pm_card_riskLevelHighest'],
    tokens: ['tok_riskLevelHighest'],
  }),
  card('fraud', '4000000000009235', 'US', {
    ids: ['pm_card_riskLevelElevated'],
    tokens: ['tok_riskLevelElevated'],
  }),
  card('fraud', '4000000000000101', 'US', {
    ids: ['pm_card_cvcCheckFail'],
    tokens: ['tok_cvcCheckFail'],
  }),
  card('fraud', '4000000000000036', 'US', {
    ids: ['pm_card_avsZipFail'],
    tokens: ['tok_avsZipFail'],
  }),
  card('fraud', '4000000000000028', 'US', {
    ids: ['pm_card_avsLine1Fail'],
    tokens: ['tok_avsLine1Fail'],
  }),
  card('fraud', '4000000000000010', 'US', { ids: ['pm_card_avsFail'], tokens: ['tok_avsFail'] }),
  card('fraud', '4000058400307872', 'US', {
    ids: ['pm_card_cvcCheckFailElevatedRisk'],
    tokens: ['tok_cvcCheckFailElevatedRisk'],
  }),
  card('fraud', '4000058400306072', 'US', {
    ids: ['pm_card_avsZipFailElevatedRisk'],
    tokens: ['tok_avsZipFailElevatedRisk'],
  }),
  card('fraud', '4000000000000044', 'US', {
    ids: ['pm_card_avsUnchecked'],
    tokens: ['tok_avsUnchecked'],
  }),
  // Disputes: the charge succeeds (disputes are not simulated yet).
  card('dispute', '4000000000000259', 'US', {
    ids: ['pm_card_createDispute'],
    tokens: ['tok_createDispute'],
  }),
  card('dispute', '4000000000002685', 'US', {
    ids: ['pm_card_createDisputeProductNotReceived'],
    tokens: ['tok_createDisputeProductNotReceived'],
  }),
  card('dispute', '4000000000001976', 'US', {
    ids: ['pm_card_createDisputeInquiry'],
    tokens: ['tok_createDisputeInquiry'],
  }),
  card('dispute', '4000000000005423', 'US', {
    ids: ['pm_card_createIssuerFraudRecord'],
    tokens: ['tok_createIssuerFraudRecord'],
  }),
  // Stripe gives no country for these; their digits 7–9 say Austria (040) and the US (840).
  card('dispute', '4000000404000079', 'AT', {
    ids: ['pm_card_createMultipleDisputes'],
    tokens: ['tok_createMultipleDisputes'],
  }),
  card('dispute', '4000000404000038', 'AT', {
    ids: ['pm_card_createCe3EligibleDispute'],
    tokens: ['tok_createCe3EligibleDispute'],
  }),
  card('dispute', '4000008400000779', 'US', {
    ids: ['pm_card_createComplianceDispute'],
    tokens: ['tok_createComplianceDispute'],
  }),
  // Refunds: the charge succeeds (an asynchronous refund failure is not simulated yet).
  card('refund', '4000000000007726', 'US', {
    ids: ['pm_card_pendingRefund'],
    tokens: ['tok_pendingRefund'],
  }),
  card('refund', '4000000000005126', 'US', {
    ids: ['pm_card_refundFail'],
    tokens: ['tok_refundFail'],
  }),
  // Available balance and domestic pricing: the charge succeeds.
  card('balance', '4000000000000077', 'US', {
    ids: ['pm_card_bypassPending'],
    tokens: ['tok_bypassPending'],
  }),
  card('balance', '4000003720000278', 'IE', {
    ids: ['pm_card_bypassPendingInternational'],
    tokens: ['tok_bypassPendingInternational'],
  }),
  card('balance', '4000000000000093', 'US', {
    ids: ['pm_card_domesticPricing'],
    tokens: ['tok_domesticPricing'],
  }),
  // 3D Secure and regulatory (SCA) cards.
  card('3ds', '4000002500003155', 'FR', { ids: ['pm_card_authenticationRequiredOnSetup'] }),
  card('3ds', '4000002760003184', 'DE', { ids: ['pm_card_authenticationRequired'] }),
  card('3ds', '4000003800000446', 'IT', {
    ids: ['pm_card_authenticationRequiredSetupForOffSession'],
  }),
  card('3ds', '4000008260003178', 'GB', {
    ids: ['pm_card_authenticationRequiredChargeDeclinedInsufficientFunds'],
  }),
  card('3ds', '4000000000003220', 'US', {
    ids: ['pm_card_threeDSecure2Required'],
    tokens: ['tok_threeDSecure2Required'],
  }),
  card('3ds', '4000000000003063', 'US', {
    ids: ['pm_card_threeDSecureRequired'],
  }),
  card('3ds', '4000008400001629', 'US', {
    ids: ['pm_card_threeDSecureRequiredChargeDeclined'],
    tokens: ['tok_threeDSecureRequiredChargeDeclined'],
  }),
  card('3ds', '4000008400001280', 'US', {
    ids: ['pm_card_threeDSecureRequiredProcessingError'],
    tokens: ['tok_threeDSecureRequiredProcessingError'],
  }),
  card('3ds', '4000000000003055', 'US', {
    ids: ['pm_card_threeDSecureOptional'],
    tokens: ['tok_threeDSecureOptional'],
  }),
  card('3ds', '4000000000003097', 'US', {
    ids: ['pm_card_threeDSecureOptionalProcessingError'],
    tokens: ['tok_threeDSecureOptionalProcessingError'],
  }),
  card('3ds', '4000000032200000', 'US'),
  // Mobile challenge flows: in API calls they "work but don't trigger any special behavior".
  card('3ds', '4000582600000094', 'GB'),
  card('3ds', '4000582600000045', 'GB'),
  card('3ds', '4000582600000102', 'GB'),
  card('3ds', '4000582600000110', 'GB'),
  // Captcha challenge (payment pages only) and payments with PINs (in person): they succeed.
  card('other', '4000000000001208', 'US'),
  card('other', '4000000000003725', 'US'),
  card('other', '4001007020000002', 'SG'),
  card('other', '4000008260000075', 'GB'),
  card('other', '4001000360000005', 'AU'),
  card('other', '4000002760000008', 'DE'),
  // Payrail's own: the simulator's faults (sim/CONTRACT.md "Test cards"), on numbers Stripe does
  // not list, so that no Stripe card changes meaning.
  card('payrail', '4000009990000013', 'US', { ids: ['pm_card_pspError'] }),
  card('payrail', '4000009990000021', 'US', { ids: ['pm_card_pspTimeout'] }),
  card('payrail', '4000009990000039', 'US', { ids: ['pm_card_pspLostResponse'] }),
  // Payrail's own 3-D Secure answers Stripe has no card for: the simulator's 3DS server answers
  // these frictionless N (not authenticated) and R (rejected by the issuer); without 3DS the
  // charge succeeds. (Stripe's own: 4242… not enrolled gives A, 3782 8224 6310 005 U.)
  card('payrail', '4000009990000047', 'US', { ids: ['pm_card_threeDSecureNotAuthenticated'] }),
  card('payrail', '4000009990000054', 'US', { ids: ['pm_card_threeDSecureRejected'] }),
];

/** Stripe's numbers that fail validation on purpose: refused when a payment method is created. */
export const invalidTestCardNumbers: readonly string[] = ['4242424242424241'];

export type TestCard = {
  readonly id: string;
  readonly number: string;
  readonly brand: CardBrand;
  /** ISO 3166-1 alpha-2, as Stripe documents the card. */
  readonly country: string;
  readonly funding: CardFunding;
  readonly section: TestCardSection;
};

/** A test token's card: what payment_methods.create stores for `card[token]`. */
export type TestTokenCard = TestCard & {
  readonly expMonth: number;
  readonly expYear: number;
};

function named(entry: Entry, id: string): TestCard {
  return {
    id,
    number: entry.number,
    brand: brandOf(entry.number),
    country: entry.country,
    funding: entry.funding ?? 'credit',
    section: entry.section,
  };
}

function index(names: (entry: Entry) => readonly string[] | undefined): Map<string, TestCard> {
  const found = new Map<string, TestCard>();
  for (const entry of entries) {
    for (const name of names(entry) ?? []) {
      if (found.has(name)) throw new Error(`test-cards: ${name} is listed twice`);
      found.set(name, Object.freeze(named(entry, name)));
    }
  }
  return found;
}

const byId = index((entry) => entry.ids);
const byToken = index((entry) => entry.tokens);
// pm_card_us and tok_us name the Visa card of the US, as Stripe's country table does.
byId.set(
  'pm_card_us',
  Object.freeze({ ...(byId.get('pm_card_visa') as TestCard), id: 'pm_card_us' }),
);
byToken.set('tok_us', Object.freeze({ ...(byToken.get('tok_visa') as TestCard), id: 'tok_us' }));
const byNumber = new Map(entries.map((entry) => [entry.number, entry]));

export type TestPaymentMethodId = string;

/** Every test PaymentMethod id, in catalogue order. */
export const testPaymentMethodIds: readonly string[] = [...byId.keys()];
/** Every test token, in catalogue order. */
export const testTokenIds: readonly string[] = [...byToken.keys()];
/** Every valid number of the catalogue (Stripe's and Payrail's), in catalogue order. */
export const testCardNumbers: readonly string[] = entries.map((entry) => entry.number);

/** The card a test PaymentMethod id stands for, or undefined. */
export function testCard(id: string): TestCard | undefined {
  return typeof id === 'string' ? byId.get(id) : undefined;
}

/**
 * The card a test token stands for (`tok_visa` → 4242 4242 4242 4242, 12/2034), or undefined
 * for anything else. Pure: the caller stores it (vault.createCard) for a test merchant only.
 */
export function testToken(id: string): TestTokenCard | undefined {
  const found = typeof id === 'string' ? byToken.get(id) : undefined;
  return found === undefined
    ? undefined
    : { ...found, expMonth: testCardExpiryMonth, expYear: testCardExpiryYear };
}

/** The catalogue's card with this exact number: its documented country and funding. */
export function testCardByNumber(
  number: string,
):
  | { readonly country: string; readonly funding: CardFunding; readonly section: TestCardSection }
  | undefined {
  const entry = byNumber.get(number);
  return entry === undefined
    ? undefined
    : { country: entry.country, funding: entry.funding ?? 'credit', section: entry.section };
}
