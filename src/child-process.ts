// Starts a Node script of this repository as a child process (on the pinned Node) and waits for
// the line that says where it listens. Used by `npm start`/`npm run demo` (the simulator), the
// integration tests and the benchmarks.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const repositoryRoot = path.resolve(import.meta.dirname, '..');

export type ChildOptions = {
  /** Relative to the repository root. */
  readonly script: string;
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Node's own flags, before the script (the benchmark passes --cpu-prof). */
  readonly nodeFlags?: readonly string[];
  /** Its first group is the URL the process listens on. */
  readonly ready: RegExp;
  readonly timeoutMs: number;
  /** Output kept for the caller (tests scan all of it); older output is dropped beyond this. */
  readonly outputCharsMax?: number;
  /** Sees every chunk of stdout and stderr. */
  readonly onOutput?: (text: string) => void;
};

export type RunningChild = {
  readonly url: string;
  readonly child: ChildProcess;
  /** What the process printed, oldest first (bounded by outputCharsMax). */
  readonly output: string[];
  readonly exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<void>;
};

export function startChild(options: ChildOptions): Promise<RunningChild> {
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeFlags ?? []),
      path.join(repositoryRoot, options.script),
      ...(options.args ?? []),
    ],
    {
      cwd: repositoryRoot,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  const outputCharsMax = options.outputCharsMax ?? 100_000;
  let outputChars = 0;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return new Promise((resolve, reject) => {
    let ready = false;
    let recent = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`${options.script} did not start within ${options.timeoutMs} ms:\n${recent}`),
      );
    }, options.timeoutMs);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      options.onOutput?.(text);
      output.push(text);
      outputChars += text.length;
      while (outputChars > outputCharsMax && output.length > 1)
        outputChars -= (output.shift() as string).length;
      if (ready) return;
      recent = (recent + text).slice(-5000);
      const match = options.ready.exec(recent);
      if (match?.[1] === undefined) return;
      ready = true;
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
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      if (!ready)
        reject(
          new Error(`${options.script} exited with code ${code} before it was ready:\n${recent}`),
        );
    });
  });
}
