// Real processes for integration tests: the PSP simulator and Payrail itself, each on a free
// port on 127.0.0.1, with all their output kept for assertions (and for finding card numbers).
import { startChild, type RunningChild } from '../../src/child-process.ts';

export type RunningProcess = RunningChild;

export function startSimulator(env: Record<string, string> = {}): Promise<RunningProcess> {
  return startChild({
    script: 'sim/main.ts',
    env: { SIM_PORT: '0', SIM_TIMEOUT_DELAY_MS: '2000', ...env },
    ready: /PSP simulator listening on (http:\/\/[0-9.:]+)/,
    timeoutMs: 15_000,
    outputCharsMax: Number.POSITIVE_INFINITY,
  });
}

/** `payrail serve` as its own process (for crash tests); logs are JSON lines on stdout. */
export function startPayrail(env: Record<string, string>): Promise<RunningProcess> {
  return startChild({
    script: 'src/cli.ts',
    args: ['serve'],
    // Tests fire faster than a merchant may; the rate-limit tests turn the limits on.
    env: { PORT: '0', LOG_LEVEL: 'info', PAYRAIL_RATE_LIMITS: 'off', ...env },
    ready: /Payrail listening on (http:\/\/127\.0\.0\.1:\d+)/,
    timeoutMs: 30_000,
    outputCharsMax: Number.POSITIVE_INFINITY,
  });
}

/**
 * Runs `work` against a fresh `payrail serve` (crashing at `faultPoint` when one is given) and
 * stops it after, whatever happened; `onOutput` receives everything it printed (log checks).
 */
export async function withPayrail<T>(
  env: Record<string, string>,
  faultPoint: string | undefined,
  work: (payrail: RunningProcess) => Promise<T>,
  onOutput?: (output: string) => void,
): Promise<T> {
  const payrail = await startPayrail({
    ...env,
    ...(faultPoint === undefined ? {} : { PAYRAIL_FAULT_POINT: faultPoint }),
  });
  try {
    return await work(payrail);
  } finally {
    await payrail.stop();
    onOutput?.(payrail.output.join(''));
  }
}
