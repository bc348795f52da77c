// The payments service's 3-D Secure (PaymentAuthentication) on a 3-D Secure server: the merchant's
// server settings (test mode: the simulator's; live mode: the configured server), and the server's
// EMV statuses in the payments' words.
import type { AuthenticationAnswer, PaymentAuthentication } from '../../payments/dependencies.ts';
import type {
  AuthenticationResult,
  ThreeDSecureServer,
  ThreeDSecureServerSettings,
} from './types.ts';

const statusOf: Readonly<Record<AuthenticationResult['status'], AuthenticationAnswer['status']>> = {
  Y: 'authenticated',
  A: 'attempted',
  N: 'failed',
  R: 'rejected',
  U: 'unavailable',
  C: 'challenge',
};

/**
 * The answer in the payments' words, refused (so the authentication fails) when it could not be
 * stored or shown: a challenge page that is not an http(s) URL (the browser is sent there), an
 * ECI that is not two digits.
 */
function answerOf(result: AuthenticationResult): AuthenticationAnswer {
  if (result.challengeUrl !== undefined && !/^https?:\/\//.test(result.challengeUrl))
    throw new Error('the 3-D Secure server gave a challenge page that is not an http(s) URL');
  if (result.eci !== undefined && !/^[0-9]{2}$/.test(result.eci))
    throw new Error('the 3-D Secure server gave an ECI that is not two digits');
  return {
    status: statusOf[result.status],
    serverTransactionId: result.id,
    liabilityShift: result.liabilityShift,
    ...(result.challengeUrl === undefined ? {} : { challengeUrl: result.challengeUrl }),
    ...(result.eci === undefined ? {} : { eci: result.eci }),
    ...(result.authenticationValue === undefined
      ? {}
      : { authenticationValue: result.authenticationValue }),
    ...(result.dsTransactionId === undefined ? {} : { dsTransactionId: result.dsTransactionId }),
    version: result.version,
  };
}

/** `settingsFor` answers undefined for a merchant without a 3-D Secure server (it cannot authenticate). */
export function paymentAuthentication(
  server: ThreeDSecureServer,
  settingsFor: (merchantId: string) => Promise<ThreeDSecureServerSettings | undefined>,
): PaymentAuthentication {
  const settings = async (merchantId: string) => {
    const found = await settingsFor(merchantId);
    if (found === undefined) throw new Error('no 3-D Secure server is configured for this mode');
    return found;
  };
  return {
    available: async (merchantId) => (await settingsFor(merchantId)) !== undefined,
    async authenticate(merchantId, request) {
      const result = await server.authenticate(
        {
          reference: request.reference,
          card: {
            number: request.card.number,
            expiryMonth: request.card.expiryMonth,
            expiryYear: request.card.expiryYear,
          },
          amount: request.amount,
          currency: request.currency,
          returnUrl: request.returnUrl,
          challengeIndicator: request.challengeRequested ? 'challenge_requested' : 'no_preference',
        },
        await settings(merchantId),
      );
      return answerOf(result);
    },
    async result(merchantId, serverTransactionId) {
      return answerOf(await server.result(serverTransactionId, await settings(merchantId)));
    },
  };
}
