import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clearingBody, type ClearingItem } from './acquirer.ts';

async function lines(items: readonly ClearingItem[]): Promise<unknown[]> {
  async function* pages() {
    yield items;
  }
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of clearingBody(
    { connector: 'stripe', currency: 'usd', cutoffAt: new Date(0), itemCount: 1, netAmount: 1n },
    pages(),
  ))
    text += decoder.decode(chunk);
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as unknown);
}

test('item lines are JSON whatever the references hold: plain ones as they are, others escaped', async () => {
  const references = [
    'pi_3Abc.def:1@x/y+z=-',
    'quote"back\\slash',
    'new\nline\ttab\u0001',
    'unicode é ✓ \u2028',
    '',
  ];
  const parsed = await lines(
    references.map((pspReference, index) => ({
      itemId: `txn_${index}`,
      pspReference,
      type: index % 2 === 0 ? 'capture' : 'refund',
      amount: 9_007_199_254_740_993n,
      currency: 'usd',
      ...(index % 2 === 0 ? { authorizedAt: new Date('2026-12-04T10:00:00.123Z') } : {}),
    })),
  );
  assert.equal(parsed.length, references.length + 1);
  references.forEach((reference, index) => {
    const line = parsed[index + 1] as Record<string, unknown>;
    assert.equal(line.psp_reference, reference);
    assert.equal(line.item_id, `txn_${index}`);
    assert.equal(line.authorized_at, index % 2 === 0 ? '2026-12-04T10:00:00.123Z' : undefined);
  });
});
