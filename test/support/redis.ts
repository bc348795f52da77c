// A redis-server of a test's own (a free port on loopback, no persistence), for tests that stop
// Redis in the middle of a run: started as a child process and killed by its PID, never by name.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';

export type RedisServer = { readonly child: ChildProcess; readonly exited: Promise<void> };

export async function startRedisServer(port: number): Promise<RedisServer> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      os.tmpdir(),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => reject(new Error(`redis-server did not start:\n${output}`)),
      10_000,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (!output.includes('Ready to accept connections')) return;
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', () => reject(new Error(`redis-server exited:\n${output}`)));
  });
  return { child, exited };
}

/** Kills this test's own server by its PID (never by name). */
export async function killRedisServer(server: RedisServer): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const pid = server.child.pid;
  assert.ok(pid !== undefined);
  process.kill(pid, 'SIGKILL');
  await server.exited;
}
