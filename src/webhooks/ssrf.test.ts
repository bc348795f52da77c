import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateEndpointUrl } from './endpoints.ts';
import { WebhookError } from './errors.ts';
import { addressRefusal, classifyAddress, type AddressPolicy } from './ssrf.ts';

const live: AddressPolicy = { livemode: true, allowLoopback: true };
const testStrict: AddressPolicy = { livemode: false, allowLoopback: false };
const testLoopback: AddressPolicy = { livemode: false, allowLoopback: true };

test('addresses are classed public, loopback or not public', () => {
  const expected: Record<string, string | undefined> = {
    '93.184.215.14': 'public',
    '8.8.8.8': 'public',
    '2606:4700:4700::1111': 'public',
    '127.0.0.1': 'loopback',
    '127.255.0.9': 'loopback',
    '::1': 'loopback',
    '::ffff:127.0.0.1': 'loopback',
    '::ffff:7f00:1': 'loopback',
    '0.0.0.0': 'non_public',
    '10.0.0.1': 'non_public',
    '100.64.0.1': 'non_public',
    '100.127.255.255': 'non_public',
    '169.254.169.254': 'non_public',
    '172.16.0.1': 'non_public',
    '172.31.255.255': 'non_public',
    '192.168.1.1': 'non_public',
    '198.18.0.1': 'non_public',
    '224.0.0.1': 'non_public',
    '239.255.255.250': 'non_public',
    '240.0.0.1': 'non_public',
    '255.255.255.255': 'non_public',
    '::': 'non_public',
    '::ffff:10.0.0.1': 'non_public',
    '::ffff:a9fe:a9fe': 'non_public',
    '::ffff:8.8.8.8': 'public',
    '::10.0.0.1': 'non_public',
    '64:ff9b::a00:1': 'non_public',
    'fc00::1': 'non_public',
    'fd12:3456::1': 'non_public',
    'fe80::1': 'non_public',
    'fe80::1%eth0': 'non_public',
    'ff02::1': 'non_public',
    '2001:db8::1': 'non_public',
    '2002:a00:1::1': 'non_public',
    '[fd00::1]': 'non_public',
    'example.com': undefined,
  };
  for (const [address, kind] of Object.entries(expected))
    assert.equal(classifyAddress(address), kind, address);
  // Just outside the private ranges.
  for (const address of ['100.63.255.255', '100.128.0.0', '172.15.255.255', '172.32.0.0'])
    assert.equal(classifyAddress(address), 'public', address);
});

test('the policy: loopback only in test mode with the operator setting; never other non-public', () => {
  assert.equal(addressRefusal('8.8.8.8', live), undefined);
  assert.equal(addressRefusal('8.8.8.8', testStrict), undefined);
  assert.match(addressRefusal('127.0.0.1', live) ?? '', /live mode/);
  assert.match(addressRefusal('::ffff:7f00:1', live) ?? '', /loopback/);
  assert.match(addressRefusal('127.0.0.1', testStrict) ?? '', /PAYRAIL_WEBHOOK_ALLOW_LOOPBACK/);
  assert.equal(addressRefusal('127.0.0.1', testLoopback), undefined);
  assert.equal(addressRefusal('::1', testLoopback), undefined);
  for (const policy of [live, testStrict, testLoopback])
    for (const address of ['10.0.0.1', '169.254.169.254', '::ffff:10.0.0.1', 'fe80::1', '0.0.0.0'])
      assert.match(addressRefusal(address, policy) ?? '', /not a public address/, address);
});

function refusal(url: string, policy: AddressPolicy): string | undefined {
  try {
    validateEndpointUrl(url, policy);
    return undefined;
  } catch (error) {
    assert.ok(error instanceof WebhookError);
    assert.equal(error.code, 'url_invalid');
    assert.equal(error.param, 'url');
    return error.message;
  }
}

test('endpoint URLs naming a non-public address are refused at creation, in every spelling', () => {
  for (const url of [
    'https://169.254.169.254/latest/meta-data',
    'https://10.0.0.1/hook',
    'https://0xa.0.0.1/hook', // hex
    'https://012.0.0.1/hook', // octal
    'https://167772161/hook', // decimal: 10.0.0.1
    'https://[::ffff:10.0.0.1]/hook',
    'https://[::ffff:a00:1]/hook',
    'https://[fd00::1]/hook',
    'https://[fe80::1]/hook',
    'https://0.0.0.0/hook',
    'https://100.64.0.1/hook',
    'https://224.0.0.1/hook',
  ])
    for (const policy of [live, testStrict, testLoopback])
      assert.match(refusal(url, policy) ?? '', /not a public address/, url);
});

test('loopback endpoint URLs only in test mode with the setting, in every spelling', () => {
  for (const url of [
    'http://127.0.0.1:4000/hook',
    'http://localhost:4000/hook',
    'http://api.localhost/hook',
    'http://[::1]:4000/hook',
    'https://[::ffff:7f00:1]/hook',
    'https://[::ffff:127.0.0.1]/hook',
    'http://2130706433/hook', // decimal 127.0.0.1
    'http://0x7f.1/hook', // hex
    'http://0177.0.0.1/hook', // octal
  ]) {
    assert.equal(refusal(url, testLoopback), undefined, url);
    assert.match(refusal(url, testStrict) ?? '', /loopback/, url);
    assert.match(refusal(url, live) ?? '', /live mode/, url);
  }
});

test('public names and addresses are accepted; names are checked again at delivery', () => {
  for (const url of ['https://merchant.example/hook', 'https://93.184.215.14/hook'])
    for (const policy of [live, testStrict, testLoopback])
      assert.equal(refusal(url, policy), undefined, url);
  assert.match(refusal('http://merchant.example/hook', testLoopback) ?? '', /https/);
  assert.match(refusal('http://10.0.0.1/hook', testLoopback) ?? '', /https/);
});
