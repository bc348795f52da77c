// Every PSP the simulator plays. Adding one = one file (or folder) under sim/psps/ exporting its
// SimPspModule, and one line in SIM_PSPS; the server's routes, the fault injectors and the admin
// API's PSP names derive from this list.
import type { SimPspModule } from '../http.ts';
import type { Psp } from '../store.ts';
import { adyenSim } from './adyen.ts';
import { paytmSim } from './paytm.ts';
import { razorpaySim } from './razorpay.ts';
import { stripeSim } from './stripe.ts';

export const SIM_PSPS: readonly SimPspModule[] = [
  // One line per PSP.
  stripeSim,
  razorpaySim,
  paytmSim,
  adyenSim,
];

/** The PSP names, in registry order. */
export const PSPS: readonly Psp[] = SIM_PSPS.map((module) => module.psp);
