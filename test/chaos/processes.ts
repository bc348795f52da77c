// The processes of a chaos run, each restartable on the same port: a private nats-server (its own
// port and store directory, never the machine's NATS on 4222), the PSP simulator, the Payrail API
// and the Payrail worker. Every process's output goes to a log file in the run's directory (kept
// when the run fails), and the tail is kept in memory for error messages.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repositoryRoot } from '../../src/child-process.ts';

export { freePort } from '../support/ports.ts';

export type ProcessSpec = {
  /** Short name for logs and reports (api, worker, nats, simulator). */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Printed once the process is ready; its first group, if any, is the URL. */
  readonly ready: RegExp;
  readonly startTimeoutMs: number;
  readonly logFile: string;
  /** Lines worth showing on the console at once (errors), e.g. pino level 50/60. */
  readonly echo?: (line: string) => boolean;
};

const tailCharsMax = 20_000;
const echoedLinesMax = 10;

/** One long-lived process that can be SIGKILLed and started again with the same command line. */
export class ManagedProcess {
  readonly spec: ProcessSpec;
  #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;
  #tail = '';
  #url: string | undefined;
  starts = 0;
  /** Error lines seen (shown on the console up to echoedLinesMax). */
  echoed = 0;
  /** Exits nobody asked for (a crash): reported, and a reason to fail the run. */
  unexpectedExits: string[] = [];
  #expectingExit = false;

  constructor(spec: ProcessSpec) {
    this.spec = spec;
  }

  get url(): string {
    if (this.#url === undefined) throw new Error(`${this.spec.name} has no URL (not started?)`);
    return this.#url;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return (
      this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null
    );
  }

  tail(chars = 4_000): string {
    return this.#tail.slice(-chars);
  }

  #log(text: string): void {
    fs.appendFileSync(this.spec.logFile, text);
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.spec.name} is already running`);
    this.starts++;
    this.#expectingExit = false;
    this.#log(
      `\n===== ${new Date().toISOString()} start #${this.starts}: ${this.spec.command} ${this.spec.args.join(' ')}\n`,
    );
    const child = spawn(this.spec.command, [...this.spec.args], {
      cwd: repositoryRoot,
      env: { ...process.env, ...this.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    this.#exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.#log(`\n===== ${new Date().toISOString()} exit code=${code} signal=${signal}\n`);
        if (!this.#expectingExit)
          this.unexpectedExits.push(
            `${this.spec.name} exited by itself (code ${code}, signal ${signal}): ${this.tail(1_500)}`,
          );
        resolve();
      }),
    );
    await new Promise<void>((resolve, reject) => {
      let ready = false;
      let recent = '';
      let partial = '';
      const timer = setTimeout(() => {
        if (ready) return;
        this.#expectingExit = true;
        child.kill('SIGKILL');
        reject(
          new Error(
            `${this.spec.name} did not start within ${this.spec.startTimeoutMs} ms:\n${recent.slice(-3_000)}`,
          ),
        );
      }, this.spec.startTimeoutMs);
      const onData = (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        this.#log(text);
        this.#tail = (this.#tail + text).slice(-tailCharsMax);
        if (this.spec.echo !== undefined) {
          const lines = (partial + text).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) {
            if (!this.spec.echo(line)) continue;
            this.echoed++;
            if (this.echoed <= echoedLinesMax)
              process.stderr.write(`[${this.spec.name}] ${line.slice(0, 1_500)}\n`);
            else if (this.echoed === echoedLinesMax + 1)
              process.stderr.write(
                `[${this.spec.name}] (more error lines in ${this.spec.logFile})\n`,
              );
          }
        }
        if (ready) return;
        recent = (recent + text).slice(-8_000);
        const match = this.spec.ready.exec(recent);
        if (match === null) return;
        ready = true;
        clearTimeout(timer);
        if (match[1] !== undefined) this.#url = match[1];
        resolve();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      void this.#exited?.then(() => {
        clearTimeout(timer);
        if (!ready)
          reject(
            new Error(`${this.spec.name} exited before it was ready:\n${recent.slice(-3_000)}`),
          );
      });
    });
  }

  /** Sends `signal` and waits (bounded) for the exit; SIGKILL after `graceMs` if it lingers. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#expectingExit = true;
    if (this.running) child.kill(signal);
    const exited = this.#exited ?? Promise.resolve();
    const timedOut = await Promise.race([
      exited.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), graceMs).unref()),
    ]);
    if (timedOut) {
      child.kill('SIGKILL');
      await exited;
    }
    this.#child = undefined;
  }

  kill(): Promise<void> {
    return this.stop('SIGKILL');
  }
}

export type RunDirectory = { readonly path: string; file(name: string): string; remove(): void };

export function makeRunDirectory(prefix: string): RunDirectory {
  const directory = fs.mkdtempSync(
    path.join(fs.realpathSync(process.env.TMPDIR ?? '/tmp'), prefix),
  );
  return {
    path: directory,
    file: (name) => path.join(directory, name),
    remove: () => fs.rmSync(directory, { recursive: true, force: true }),
  };
}

const errorLine = (line: string) => line.includes('"level":50') || line.includes('"level":60');

export function natsProcess(run: RunDirectory, port: number): ManagedProcess {
  const store = run.file('nats-store');
  fs.mkdirSync(store, { recursive: true });
  return new ManagedProcess({
    name: 'nats',
    command: '/usr/sbin/nats-server',
    args: ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store],
    ready: /Server is ready/,
    startTimeoutMs: 15_000,
    logFile: run.file('nats.log'),
  });
}

export function simulatorProcess(run: RunDirectory): ManagedProcess {
  return new ManagedProcess({
    name: 'simulator',
    command: process.execPath,
    args: [path.join(repositoryRoot, 'sim/main.ts')],
    env: { SIM_PORT: '0', SIM_TIMEOUT_DELAY_MS: '2500' },
    ready: /PSP simulator listening on (http:\/\/[0-9.:]+)/,
    startTimeoutMs: 15_000,
    logFile: run.file('simulator.log'),
  });
}

export function payrailProcess(
  run: RunDirectory,
  role: 'api' | 'worker',
  env: Readonly<Record<string, string>>,
  quiet: boolean,
): ManagedProcess {
  return new ManagedProcess({
    name: role,
    command: process.execPath,
    args: [path.join(repositoryRoot, 'src/cli.ts'), role === 'api' ? 'serve' : 'worker'],
    env,
    ready:
      role === 'api'
        ? /Payrail listening on (http:\/\/127\.0\.0\.1:\d+)/
        : /Payrail worker running/,
    startTimeoutMs: 30_000,
    logFile: run.file(`${role}.log`),
    echo: quiet ? undefined : errorLine,
  });
}
