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

function answerOf(result: AuthenticationResult): AuthenticationAnswer {
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
