// Runs the PSP simulator (sim/) as a child process for development (`npm start`, `npm run demo`).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export type SimulatorProcess = { readonly url: string; readonly child: ChildProcess; stop(): Promise<void> };

const readyPattern = /PSP simulator listening on (http:\/\/[0-9.:]+)/;
const startTimeoutMs = 15_000;

export function startSimulatorProcess(port: number): Promise<SimulatorProcess> {
  const script = path.join(import.meta.dirname, '..', 'sim', 'main.ts');
  const child = spawn(process.execPath, [script], { env: { ...process.env, SIM_PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the PSP simulator did not start within ${startTimeoutMs} ms`));
    }, startTimeoutMs);
    const exitedEarly = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`the PSP simulator exited with code ${code} before it was ready (is port ${port} taken? set SIM_PORT)`));
    };
    child.once('exit', exitedEarly);
    child.stdout.on('data', (chunk: Buffer) => {
      seen = (seen + chunk.toString('utf8')).slice(-2000);
      const match = readyPattern.exec(seen);
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      child.off('exit', exitedEarly);
      resolve({
        url: match[1],
        child,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}
