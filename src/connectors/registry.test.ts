import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectorError } from './errors.ts';
import {
  connectorModules,
  connectorRegistry,
  getConnector,
  getConnectorModule,
  hasConnector,
  listConnectorNames,
} from './registry.ts';

describe('connector registry', () => {
  it('registers stripe, razorpay and paytm under their own names', () => {
    for (const name of ['paytm', 'razorpay', 'stripe'])
      assert.ok(listConnectorNames().includes(name));
    assert.deepEqual(listConnectorNames(), connectorModules.map((module) => module.name).sort());
    for (const [name, connector] of connectorRegistry) {
      assert.equal(connector.name, name);
      assert.equal(getConnector(name), connector);
      assert.ok(hasConnector(name));
      for (const method of ['authorize', 'capture', 'void', 'refund', 'sync'] as const)
        assert.equal(typeof connector[method], 'function');
    }
  });

  it('each module holds its own connector, webhook parser and capability map', () => {
    for (const module of connectorModules) {
      assert.equal(getConnectorModule(module.name), module);
      assert.equal(module.connector.name, module.name);
      assert.equal(module.webhookParser.connector, module.name);
      assert.equal(module.capabilities, module.connector.capabilities);
      const credentials = module.testCredentials('http://127.0.0.1:8090');
      assert.ok(credentials.baseUrl.startsWith('http://127.0.0.1:8090/'), module.name);
      assert.ok((credentials.webhookSecret ?? '') !== '', module.name);
    }
  });

  it('throws a ConnectorError for an unknown name', () => {
    assert.equal(hasConnector('no_such_psp'), false);
    assert.throws(
      () => getConnector('no_such_psp'),
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
