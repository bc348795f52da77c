import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PaymentOutcome } from '../connectors/types.ts';
import {
  declineVerdict,
  defaultDeclinePolicy,
  isRetryableDecline,
  type DeclinePolicy,
} from './soft-declines.ts';

describe('soft declines', () => {
  const table: [string, PaymentOutcome, boolean][] = [
    ['do_not_honor', { status: 'failed', declineCode: 'do_not_honor' }, true],
    ['generic_decline', { status: 'failed', declineCode: 'generic_decline' }, true],
    [
      'processing_error (PSP code)',
      { status: 'failed', declineCode: 'generic_decline', pspCode: 'processing_error' },
      true,
    ],
    [
      'issuer unavailable (PSP code)',
      { status: 'failed', declineCode: 'generic_decline', pspCode: 'issuer_not_available' },
      true,
    ],
    ['PSP refused without a decline code', { status: 'failed', pspCode: 'rate_limit' }, true],
    ['insufficient_funds', { status: 'failed', declineCode: 'insufficient_funds' }, false],
    ['lost_card', { status: 'failed', declineCode: 'lost_card' }, false],
    ['stolen_card', { status: 'failed', declineCode: 'stolen_card' }, false],
    ['expired_card', { status: 'failed', declineCode: 'expired_card' }, false],
    ['incorrect_cvc', { status: 'failed', declineCode: 'incorrect_cvc' }, false],
    [
      '3-D Secure required',
      { status: 'failed', declineCode: 'generic_decline', pspCode: 'authentication_required' },
      false,
    ],
    [
      'fraudulent',
      { status: 'failed', declineCode: 'generic_decline', pspCode: 'fraudulent' },
      false,
    ],
    [
      'a decline code nobody mapped',
      { status: 'failed', declineCode: 'something_new' as 'generic_decline' },
      false,
    ],
    ['unknown outcome: may have charged', { status: 'unknown', pspCode: 'timeout' }, false],
    ['pending', { status: 'pending' }, false],
    ['authorized', { status: 'authorized' }, false],
  ];
  for (const [name, outcome, retryable] of table) {
    test(`default map: ${name} → ${retryable ? 'retry elsewhere' : 'final'}`, () => {
      assert.equal(isRetryableDecline('stripe', outcome), retryable);
    });
  }

  test('not a failure: no verdict', () => {
    assert.equal(declineVerdict('stripe', { status: 'unknown' }), undefined);
    assert.equal(declineVerdict('stripe', { status: 'captured' }), undefined);
  });

  test('per-connector overrides of the bundled policy', () => {
    // Razorpay's card validation failure arrives as generic_decline: final on razorpay only.
    const validation: PaymentOutcome = {
      status: 'failed',
      declineCode: 'generic_decline',
      pspCode: 'input_validation_failed',
    };
    assert.equal(isRetryableDecline('razorpay', validation), false);
    assert.equal(
      isRetryableDecline('razorpay', {
        status: 'failed',
        declineCode: 'do_not_honor',
        pspCode: 'payment_declined_by_bank',
      }),
      true,
    );
    assert.equal(
      isRetryableDecline('paytm', {
        status: 'failed',
        declineCode: 'generic_decline',
        pspCode: '1001',
      }),
      false,
    );
    assert.equal(
      isRetryableDecline('paytm', {
        status: 'failed',
        declineCode: 'generic_decline',
        pspCode: '330',
      }),
      true,
    );
    assert.equal(
      isRetryableDecline('paytm', {
        status: 'failed',
        declineCode: 'insufficient_funds',
        pspCode: '235',
      }),
      false,
    );
  });

  test('a custom policy: connector entries first, then defaults; PSP code before decline code', () => {
    const policy: DeclinePolicy = {
      defaults: defaultDeclinePolicy.defaults,
      connectors: {
        acme: {
          pspCodes: { '05': 'retry_elsewhere', '51': 'final' },
          declineCodes: { generic_decline: 'final' },
          withoutDeclineCode: 'final',
        },
      },
    };
    assert.equal(
      isRetryableDecline(
        'acme',
        { status: 'failed', declineCode: 'generic_decline', pspCode: '05' },
        policy,
      ),
      true,
    );
    assert.equal(
      isRetryableDecline(
        'acme',
        { status: 'failed', declineCode: 'generic_decline', pspCode: '99' },
        policy,
      ),
      false,
    );
    assert.equal(
      isRetryableDecline('acme', { status: 'failed', declineCode: 'do_not_honor' }, policy),
      true,
    );
    assert.equal(
      isRetryableDecline('acme', { status: 'failed', pspCode: 'api_error' }, policy),
      false,
    );
    assert.equal(
      isRetryableDecline('other', { status: 'failed', declineCode: 'generic_decline' }, policy),
      true,
    );
    // Keys are looked up as own properties only.
    assert.equal(
      isRetryableDecline(
        'acme',
        { status: 'failed', declineCode: 'toString' as 'generic_decline' },
        policy,
      ),
      false,
    );
  });
});
