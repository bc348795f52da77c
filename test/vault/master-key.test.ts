// The development master key file: created once (mode 0600, 32 bytes, atomically), then reused;
// refused when it is the wrong size or readable by others.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import {
  developmentMasterKeyFile,
  loadOrCreateDevelopmentMasterKey,
  resolveMasterKey,
} from '../../src/vault/crypto.ts';

const run = promisify(execFile);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'payrail-vault-key-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

function freshDirectory(): string {
  return path.join(root, crypto.randomBytes(4).toString('hex'), 'data');
}

test('the first call creates a 32-byte key file with mode 0600; later calls reuse it', () => {
  const directory = freshDirectory();
  const first = loadOrCreateDevelopmentMasterKey(directory);
  assert.equal(first.created, true);
  assert.equal(first.path, path.join(directory, developmentMasterKeyFile));
  assert.equal(first.key.length, 32);
  const stat = fs.statSync(path.join(directory, developmentMasterKeyFile));
  assert.equal(stat.mode & 0o777, 0o600);
  assert.deepEqual(fs.readFileSync(path.join(directory, developmentMasterKeyFile)), first.key);

  const second = loadOrCreateDevelopmentMasterKey(directory);
  assert.equal(second.created, false);
  assert.deepEqual(second.key, first.key);
  assert.deepEqual(
    fs.readdirSync(directory),
    [developmentMasterKeyFile],
    'no temporary files are left behind',
  );
});

test('the key file is 0600 even under a permissive umask', () => {
  const previous = process.umask(0o000);
  try {
    const directory = freshDirectory();
    loadOrCreateDevelopmentMasterKey(directory);
    assert.equal(fs.statSync(path.join(directory, developmentMasterKeyFile)).mode & 0o777, 0o600);
  } finally {
    process.umask(previous);
  }
});

test('processes starting at once agree on one key, and exactly one of them created it', async () => {
  const directory = freshDirectory();
  const module = path.resolve(import.meta.dirname, '../../src/vault/crypto.ts');
  const script = `import { loadOrCreateDevelopmentMasterKey } from ${JSON.stringify(module)};
    const result = loadOrCreateDevelopmentMasterKey(${JSON.stringify(directory)});
    console.log(JSON.stringify({ key: result.key.toString('hex'), created: result.created }));`;
  const outputs = await Promise.all(
    Array.from({ length: 6 }, () => run(process.execPath, ['--input-type=module', '-e', script])),
  );
  const results = outputs.map(
    (output) => JSON.parse(output.stdout) as { key: string; created: boolean },
  );
  assert.equal(new Set(results.map((result) => result.key)).size, 1);
  assert.equal(results.filter((result) => result.created).length, 1);
  assert.equal(
    fs.readFileSync(path.join(directory, developmentMasterKeyFile)).toString('hex'),
    results[0]?.key,
  );
  assert.deepEqual(fs.readdirSync(directory), [developmentMasterKeyFile]);
});

test('a key file of the wrong size, or readable by others, is refused', () => {
  const shortDirectory = freshDirectory();
  fs.mkdirSync(shortDirectory, { recursive: true });
  fs.writeFileSync(path.join(shortDirectory, developmentMasterKeyFile), crypto.randomBytes(16), {
    mode: 0o600,
  });
  assert.throws(
    () => loadOrCreateDevelopmentMasterKey(shortDirectory),
    /exactly 32 bytes, found 16/,
  );

  const openDirectory = freshDirectory();
  loadOrCreateDevelopmentMasterKey(openDirectory);
  fs.chmodSync(path.join(openDirectory, developmentMasterKeyFile), 0o644);
  assert.throws(
    () => loadOrCreateDevelopmentMasterKey(openDirectory),
    /readable by other users \(mode 644\)/,
  );
});

test("'memory://' gets a throw-away key and writes nothing", () => {
  const first = loadOrCreateDevelopmentMasterKey('memory://');
  const second = loadOrCreateDevelopmentMasterKey('memory://');
  assert.equal(first.path, undefined);
  assert.equal(first.key.length, 32);
  assert.notDeepEqual(first.key, second.key);
  assert.equal(fs.existsSync('memory:'), false);
});

test('resolveMasterKey prefers the configured key, then the file, then a throw-away key', () => {
  const configured = crypto.randomBytes(32);
  const directory = freshDirectory();
  assert.deepEqual(resolveMasterKey({ vaultMasterKey: configured, dataDirectory: directory }), {
    key: configured,
    source: 'config',
    created: false,
  });
  assert.equal(fs.existsSync(directory), false, 'a configured key never creates the file');
  const fromFile = resolveMasterKey({ vaultMasterKey: undefined, dataDirectory: directory });
  assert.equal(fromFile.source, 'file');
  assert.equal(fromFile.created, true);
  assert.equal(
    resolveMasterKey({ vaultMasterKey: undefined, dataDirectory: directory }).created,
    false,
  );
  assert.equal(
    resolveMasterKey({ vaultMasterKey: undefined, dataDirectory: 'memory://' }).source,
    'ephemeral',
  );
});
