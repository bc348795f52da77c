import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectorError } from './errors.ts';
import { connectorRegistry, getConnector, hasConnector, listConnectorNames } from './registry.ts';

describe('connector registry', () => {
  it('registers stripe, razorpay and paytm under their own names', () => {
    assert.deepEqual(listConnectorNames(), ['paytm', 'razorpay', 'stripe']);
    for (const [name, connector] of connectorRegistry) {
      assert.equal(connector.name, name);
      assert.equal(getConnector(name), connector);
      assert.ok(hasConnector(name));
      for (const method of ['authorize', 'capture', 'void', 'refund', 'sync'] as const)
        assert.equal(typeof connector[method], 'function');
    }
  });

  it('throws a ConnectorError for an unknown name', () => {
    assert.equal(hasConnector('adyen'), false);
    assert.throws(
      () => getConnector('adyen'),
      (error: unknown) => error instanceof ConnectorError && error.code === 'unknown_connector',
    );
    assert.equal(hasConnector('constructor'), false);
  });

  it('capability maps agree with what each connector refuses', () => {
    for (const connector of connectorRegistry.values()) {
      const { capabilities } = connector;
      assert.ok(capabilities.currencies.length > 0, connector.name);
      assert.ok(
        capabilities.currencies.every((code) => code === code.toLowerCase()),
        connector.name,
      );
      assert.ok(capabilities.captureModes.includes('automatic'), connector.name);
      if (!capabilities.refunds.partial)
        assert.equal(capabilities.refunds.multiple, false, connector.name);
    }
  });
});
