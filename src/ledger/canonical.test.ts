import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalRequest, firstDifference } from './canonical.ts';
import type { TransferRequest } from './types.ts';

const base: TransferRequest = {
  kind: 'posted',
  id: 't',
  description: 'd',
  metadata: { b: '2', a: '1' },
  legs: [
    { accountId: 'x', direction: 'debit', amount: 5n, currency: 'usd' },
    { accountId: 'y', direction: 'credit', amount: 5n, currency: 'usd' },
  ],
};

test('metadata order does not matter; every other field does, and is named', () => {
  const same = canonicalRequest({ ...base, metadata: { a: '1', b: '2' } });
  assert.equal(firstDifference(canonicalRequest(base), same), undefined);
  const cases: [TransferRequest, string][] = [
    [{ ...base, description: 'other' }, 'description'],
    [{ ...base, metadata: { a: '1' } }, 'metadata'],
    [
      { ...base, legs: [base.legs[0]!, { ...base.legs[1]!, accountId: 'z' }] } as TransferRequest,
      'legs[1].account_id',
    ],
    [{ ...base, legs: base.legs.slice(0, 1) } as TransferRequest, 'legs'],
    [
      { kind: 'pending', id: 't', legs: base.legs, description: 'd', metadata: base.metadata },
      'kind',
    ],
  ];
  for (const [changed, field] of cases)
    assert.equal(firstDifference(canonicalRequest(base), canonicalRequest(changed)), field);
});

test('bigint amounts survive the JSON round trip exactly', () => {
  const big = {
    ...base,
    legs: base.legs.map((leg) => ({ ...leg, amount: 99_999_999_999n })),
  } as TransferRequest;
  const stored = JSON.parse(JSON.stringify(canonicalRequest(big)));
  assert.equal(firstDifference(stored, canonicalRequest(big)), undefined);
});
