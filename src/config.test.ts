import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';

test('defaults need no environment at all', () => {
  const config = loadConfig({});
  assert.equal(config.port, 8080);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.databaseUrl, undefined);
  assert.equal(config.dataDirectory, path.resolve('.payrail'));
  assert.equal(config.adminKey, undefined);
  assert.equal(config.logLevel, 'info');
  assert.equal(config.vaultMasterKey, undefined);
  assert.equal(config.simulatorUrl, 'http://127.0.0.1:8090');
});

test('a 32-byte base64 master key is accepted', () => {
  const key = Buffer.alloc(32, 7);
  assert.deepEqual(
    loadConfig({ PAYRAIL_VAULT_MASTER_KEY: key.toString('base64') }).vaultMasterKey,
    key,
  );
});

test('valid values are taken', () => {
  const config = loadConfig({
    PORT: '9000',
    DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
    PAYRAIL_DATA_DIR: 'memory://',
    PAYRAIL_ADMIN_KEY: 'a'.repeat(32),
    LOG_LEVEL: 'debug',
    PAYRAIL_DB_POOL_SIZE: '5',
  });
  assert.equal(config.port, 9000);
  assert.equal(config.databaseUrl, 'postgres://u@127.0.0.1:5432/db');
  assert.equal(config.dataDirectory, 'memory://');
  assert.equal(config.databasePoolSize, 5);
});

test('a wrong value names its variable in one line', () => {
  const cases: [Record<string, string>, string][] = [
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ PORT: '-1' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ PAYRAIL_ADMIN_KEY: 'short' }, 'PAYRAIL_ADMIN_KEY'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ PAYRAIL_DB_POOL_SIZE: '0' }, 'PAYRAIL_DB_POOL_SIZE'],
    [{ PAYRAIL_BODY_LIMIT_BYTES: '1.5' }, 'PAYRAIL_BODY_LIMIT_BYTES'],
    [{ PAYRAIL_VAULT_MASTER_KEY: 'c2hvcnQ=' }, 'PAYRAIL_VAULT_MASTER_KEY'],
    [{ PAYRAIL_VAULT_MASTER_KEY: 'not base64!' }, 'PAYRAIL_VAULT_MASTER_KEY'],
    [{ PAYRAIL_SIMULATOR_URL: 'ftp://x' }, 'PAYRAIL_SIMULATOR_URL'],
  ];
  for (const [env, variable] of cases) {
    assert.throws(
      () => loadConfig(env),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.variable, variable);
        assert.ok(error.message.startsWith(`${variable}: `));
        assert.ok(!error.message.includes('\n'));
        return true;
      },
    );
  }
});

test('webhooks reach loopback only when the operator says so', () => {
  assert.equal(loadConfig({}).webhookAllowLoopback, false);
  assert.equal(loadConfig({ PAYRAIL_WEBHOOK_ALLOW_LOOPBACK: '1' }).webhookAllowLoopback, true);
  assert.equal(loadConfig({ PAYRAIL_WEBHOOK_ALLOW_LOOPBACK: 'false' }).webhookAllowLoopback, false);
  assert.throws(() => loadConfig({ PAYRAIL_WEBHOOK_ALLOW_LOOPBACK: 'yes' }), ConfigError);
});
