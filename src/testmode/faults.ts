// Fault points for the crash tests (test/integration/crash.test.ts, test/chaos): the process
// kills itself at a named point, as a crash would. Production code only calls `reach`; an
// injector that does anything exists only when PAYRAIL_FAULT_POINT names a point.

import { noFaults, type FaultInjector, type FaultPoint } from '../fault-points.ts';
/**
 * Dies by SIGKILL when `point` is reached: nothing can be caught or cleaned up after it, exactly
 * like a crash or a power cut. `kill` is injectable for this module's own test.
 */
export function crashAt(
  point: FaultPoint,
  kill: () => void = () => process.kill(process.pid, 'SIGKILL'),
): FaultInjector {
  return {
    reach(reached) {
      if (reached === point) kill();
    },
  };
}

/** The injector for a configured fault point (none: noFaults). */
export function faultInjector(point: FaultPoint | undefined): FaultInjector {
  return point === undefined ? noFaults : crashAt(point);
}
