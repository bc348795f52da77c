// What goes wrong during a chaos run: PSP faults in the simulator (timeouts, 5xx, lost
// responses, latency; seeded), SIGKILLs of the API and the worker at seeded moments (each
// restarted on the same port after a short pause), and one restart of NATS.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ManagedProcess } from './processes.ts';
import type { Random } from './random.ts';

export const psps = ['stripe', 'razorpay', 'paytm'] as const;

export type PspFaults = {
  timeoutRate: number;
  errorRate: number;
  lostResponseRate: number;
  latencyMsMax: number;
  timeoutDelayMs: number;
};

export const defaultPspFaults: PspFaults = {
  timeoutRate: 0.03,
  errorRate: 0.05,
  lostResponseRate: 0.03,
  latencyMsMax: 40,
  timeoutDelayMs: 2_500,
};

/** An admin call to the simulator (its faults, its ground truth); a refusal throws. */
export async function simulatorAdmin(
  simulatorUrl: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<void> {
  const response = await fetch(`${simulatorUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok)
    throw new Error(`simulator ${method} ${path}: ${response.status} ${await response.text()}`);
}

/** A few seconds of a PSP in real trouble: enough 5xx and timeouts in a row to open its circuit breaker. */
export const stormPspFaults: PspFaults = {
  timeoutRate: 0.2,
  errorRate: 0.5,
  lostResponseRate: 0.1,
  latencyMsMax: 200,
  timeoutDelayMs: 2_500,
};

export function setFaultsOf(
  simulatorUrl: string,
  psp: string,
  seed: number,
  faults: PspFaults,
): Promise<void> {
  return simulatorAdmin(simulatorUrl, 'PUT', `/_sim/faults/${psp}`, {
    seed,
    latency: { distribution: 'uniform', minMs: 0, maxMs: faults.latencyMsMax },
    timeoutRate: faults.timeoutRate,
    errorRate: faults.errorRate,
    lostResponseRate: faults.lostResponseRate,
    timeoutDelayMs: faults.timeoutDelayMs,
  });
}

export async function setPspFaults(
  simulatorUrl: string,
  seed: number,
  faults: PspFaults,
): Promise<void> {
  for (const [index, psp] of psps.entries())
    await setFaultsOf(simulatorUrl, psp, seed + index, faults);
}

export function clearPspFaults(simulatorUrl: string): Promise<void> {
  return simulatorAdmin(simulatorUrl, 'DELETE', '/_sim/faults');
}

export type ChaosAction = {
  readonly atMs: number;
  readonly kind: 'kill_api' | 'kill_worker' | 'restart_nats';
};
export type Storm = { readonly atMs: number; readonly psp: string; readonly durationMs: number };

/** One PSP storm per started 30 s of load, at seeded moments; stripe most often (routing tries it first). */
export function planStorms(random: Random, loadMs: number): Storm[] {
  const count = Math.max(1, Math.ceil(loadMs / 30_000));
  return Array.from({ length: count }, () => ({
    atMs: Math.round(loadMs * (0.05 + random.next() * 0.7)),
    psp: random.weighted({ stripe: 3, razorpay: 1, paytm: 1 }),
    durationMs: random.integer(2_000, 4_000),
  })).sort((a, b) => a.atMs - b.atMs);
}

/** Carries out the storms (each then back to the default faults); returns what it did, for the timeline. */
export async function runStorms(
  storms: readonly Storm[],
  simulatorUrl: string,
  seed: number,
  startedAt: number,
  stopped: () => boolean,
): Promise<string[]> {
  const timeline: string[] = [];
  for (const [index, storm] of storms.entries()) {
    const waitMs = startedAt + storm.atMs - Date.now();
    if (waitMs > 0) await sleep(waitMs);
    if (stopped()) break;
    timeline.push(
      `${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)} s  ${storm.psp} storm for ${storm.durationMs} ms (5xx ${stormPspFaults.errorRate}, timeouts ${stormPspFaults.timeoutRate}, lost ${stormPspFaults.lostResponseRate})`,
    );
    await setFaultsOf(simulatorUrl, storm.psp, seed + 100 + index, stormPspFaults);
    await sleep(storm.durationMs);
    await setFaultsOf(simulatorUrl, storm.psp, seed + 200 + index, defaultPspFaults);
  }
  return timeline;
}

/**
 * The run's kills and NATS restarts, at seeded moments of the load (between 10 % and 85 % of it),
 * in time order. Kills alternate between the API and the worker, starting with a seeded one.
 */
export function planChaos(
  random: Random,
  loadMs: number,
  kills: number,
  natsRestarts: number,
): ChaosAction[] {
  const firstIsApi = random.chance(0.5);
  const actions: ChaosAction[] = [];
  for (let index = 0; index < kills; index++) {
    actions.push({
      atMs: Math.round(loadMs * (0.1 + random.next() * 0.75)),
      kind: (index % 2 === 0) === firstIsApi ? 'kill_api' : 'kill_worker',
    });
  }
  for (let index = 0; index < natsRestarts; index++)
    actions.push({ atMs: Math.round(loadMs * (0.3 + random.next() * 0.4)), kind: 'restart_nats' });
  return actions.sort((a, b) => a.atMs - b.atMs);
}

export type ChaosLog = {
  kills: { api: number; worker: number };
  natsRestarts: number;
  timeline: string[];
};

export type ChaosTargets = {
  api: ManagedProcess;
  worker: ManagedProcess | undefined;
  nats: ManagedProcess | undefined;
};

const restartTriesMax = 3;

/** Stops `process` with `signal`, waits `pauseMs`, starts it again (on the same port). */
export async function restart(
  process: ManagedProcess,
  pauseMs: number,
  signal: NodeJS.Signals,
): Promise<void> {
  await process.stop(signal);
  await sleep(pauseMs);
  for (let tries = 1; ; tries++) {
    try {
      await process.start();
      return;
    } catch (error) {
      if (tries >= restartTriesMax) throw error;
      await sleep(500);
    }
  }
}

/** Carries out the plan against the running processes; returns once every action is done or the run stops. */
export async function runChaos(
  plan: readonly ChaosAction[],
  targets: ChaosTargets,
  random: Random,
  startedAt: number,
  stopped: () => boolean,
): Promise<ChaosLog> {
  const log: ChaosLog = { kills: { api: 0, worker: 0 }, natsRestarts: 0, timeline: [] };
  const note = (text: string) =>
    log.timeline.push(`${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)} s  ${text}`);
  for (const action of plan) {
    const waitMs = startedAt + action.atMs - Date.now();
    if (waitMs > 0) await sleep(waitMs);
    if (stopped()) break;
    const pauseMs = random.integer(200, 1_500);
    if (
      action.kind === 'kill_api' ||
      (action.kind === 'kill_worker' && targets.worker === undefined)
    ) {
      note(`SIGKILL api (pid ${targets.api.pid}), restart after ${pauseMs} ms`);
      await restart(targets.api, pauseMs, 'SIGKILL');
      log.kills.api++;
    } else if (action.kind === 'kill_worker' && targets.worker !== undefined) {
      note(`SIGKILL worker (pid ${targets.worker.pid}), restart after ${pauseMs} ms`);
      await restart(targets.worker, pauseMs, 'SIGKILL');
      log.kills.worker++;
    } else if (action.kind === 'restart_nats' && targets.nats !== undefined) {
      note(`restart NATS (SIGTERM, same port and store), start after ${pauseMs} ms`);
      await restart(targets.nats, pauseMs, 'SIGTERM');
      log.natsRestarts++;
    }
    note(`${action.kind} done`);
  }
  return log;
}
