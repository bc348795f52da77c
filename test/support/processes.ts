// Real processes for integration tests: the PSP simulator and Payrail itself, each on a free
// port on 127.0.0.1, with their output kept for assertions (and for finding card numbers).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const node = process.execPath;

export type RunningProcess = {
  readonly url: string;
  readonly child: ChildProcess;
  readonly output: string[];
  stop(signal?: NodeJS.Signals): Promise<void>;
  exited: Promise<number | null>;
};

function start(script: string, args: string[], env: Record<string, string>, ready: RegExp, timeoutMs: number): Promise<RunningProcess> {
  const child = spawn(node, [script, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not start within ${timeoutMs} ms:\n${output.join('')}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output.push(text);
      const match = ready.exec(output.join(''));
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve({
          url: match[1],
          child,
          output,
          exited,
          async stop(signal: NodeJS.Signals = 'SIGTERM') {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            await exited;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before it was ready:\n${output.join('')}`));
    });
  });
}

export function startSimulator(env: Record<string, string> = {}): Promise<RunningProcess> {
  return start('sim/main.ts', [], { SIM_PORT: '0', SIM_TIMEOUT_DELAY_MS: '2000', ...env }, /PSP simulator listening on (http:\/\/[0-9.:]+)/, 15_000);
}

/** `payrail serve` as its own process (for crash tests); logs are JSON lines on stdout. */
export function startPayrail(env: Record<string, string>): Promise<RunningProcess> {
  return start('src/cli.ts', ['serve'], { PORT: '0', LOG_LEVEL: 'info', ...env }, /Payrail listening on (http:\/\/127\.0\.0\.1:\d+)/, 30_000);
}
