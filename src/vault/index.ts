// The card vault's public surface.
export {
  Vault,
  merchantIdLengthMax,
  paymentMethodIdLengthMax,
  mergeMetadata,
  shreddedPaymentMethodMessage,
  type Address,
  type BillingDetails,
  type PaymentMethod,
  type PaymentMethodChange,
  type VaultOptions,
} from './vault.ts';
export {
  VaultError,
  VaultDecryptionError,
  type VaultErrorCode,
  type DecryptionFailure,
} from './errors.ts';
export { brandOf, luhnValid, validateCard, type CardBrand, type CardInput } from './card.ts';
export {
  loadOrCreateDevelopmentMasterKey,
  resolveMasterKey,
  developmentMasterKeyFile,
  type DevelopmentMasterKey,
} from './crypto.ts';
export {
  testPaymentMethodIds,
  testTokenIds,
  testToken,
  type TestPaymentMethodId,
  type TestTokenCard,
  type CardFunding,
} from './test-cards.ts';
export {
  binOf,
  issuerCountryOf,
  testIssuerCountry,
  testIssuerRanges,
  type IssuerCountryLookup,
  type IssuerRange,
} from './issuers.ts';
