// Runs the PSP simulator (sim/) as a child process for development (`npm start`, `npm run demo`).
import { startChild, type RunningChild } from '../child-process.ts';

export type SimulatorProcess = RunningChild;

export function startSimulatorProcess(port: number): Promise<SimulatorProcess> {
  return startChild({
    script: 'sim/main.ts',
    env: { SIM_PORT: String(port) },
    ready: /PSP simulator listening on (http:\/\/[0-9.:]+)/,
    timeoutMs: 15_000,
    // The simulator's own complaints (a taken port, say) belong on the developer's screen.
    onOutput: (text) => {
      if (!text.startsWith('PSP simulator listening')) process.stderr.write(text);
    },
  });
}
