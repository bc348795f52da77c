// A small seeded PRNG (mulberry32), so that a chaos run's choices (flows, amounts, kill times)
// repeat for the same seed. Process timing still varies from run to run: the seed fixes what is
// attempted, not how the machine schedules it.
import { seededRandom as uniform } from '../../src/random.ts';

export type Random = {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [minimum, maximum]. */
  integer(minimum: number, maximum: number): number;
  pick<T>(items: readonly T[]): T;
  /** Picks by weight; weights need not sum to 1. */
  weighted<T extends string>(weights: Readonly<Record<T, number>>): T;
  chance(probability: number): boolean;
  /** A new generator whose sequence depends on this one's seed and `label`. */
  fork(label: string): Random;
};

function hash(text: string, seed: number): number {
  let value = (seed >>> 0) ^ 0x9e3779b9;
  for (let index = 0; index < text.length; index++) {
    value = Math.imul(value ^ text.charCodeAt(index), 0x85ebca6b);
    value ^= value >>> 13;
  }
  return value >>> 0;
}

export function seededRandom(seed: number): Random {
  const next = uniform(seed);
  const random: Random = {
    next,
    integer: (minimum, maximum) => minimum + Math.floor(next() * (maximum - minimum + 1)),
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[Math.floor(next() * items.length)] as (typeof items)[number];
    },
    weighted: (weights) => {
      const entries = Object.entries(weights) as [keyof typeof weights, number][];
      const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
      let draw = next() * total;
      for (const [name, weight] of entries) {
        draw -= weight;
        if (draw < 0) return name;
      }
      return (entries[entries.length - 1] as [keyof typeof weights, number])[0];
    },
    chance: (probability) => next() < probability,
    fork: (label) => seededRandom(hash(label, seed)),
  };
  return random;
}
