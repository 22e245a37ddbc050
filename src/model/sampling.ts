/**
 * Choosing the next token from logits, and log-probabilities for scoring. Pure functions over
 * Float32Array so the engine, the server and the tests agree on every tie and every seed.
 */
import type { SamplingOptions } from './backend';

/** A seeded generator of uniform numbers in [0, 1) (mulberry32): small, fast, and the same everywhere. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Index of the largest value; ties go to the lowest index. */
export function argmax(values: Float32Array, limit = values.length): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < limit; i++) {
    if (values[i] > bestValue) {
      bestValue = values[i];
      best = i;
    }
  }
  return best;
}

/** log(sum(exp(values))), computed stably in double precision. */
export function logSumExp(values: Float32Array, limit = values.length): number {
  let max = -Infinity;
  for (let i = 0; i < limit; i++) if (values[i] > max) max = values[i];
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = 0; i < limit; i++) sum += Math.exp(values[i] - max);
  return max + Math.log(sum);
}

/**
 * Probabilities below e^-40 of the best token's never survive top-p or change a draw in practice;
 * leaving them out keeps sampling from sorting a 128k vocabulary every step.
 */
const NEGLIGIBLE_LOGIT_GAP = 40;

/**
 * The next token: greedy when temperature is 0 (or absent), else a draw from the tempered
 * distribution restricted to its top-p nucleus. `limit` hides logits past the tokenizer's vocabulary.
 */
export function chooseToken(logits: Float32Array, options: SamplingOptions, random: () => number, limit = logits.length): number {
  const temperature = options.temperature ?? 0;
  if (!(temperature > 0)) return argmax(logits, limit);
  const topP = Math.min(Math.max(options.topP ?? 1, 0), 1);
  let max = -Infinity;
  for (let i = 0; i < limit; i++) if (logits[i] > max) max = logits[i];
  const floor = max - NEGLIGIBLE_LOGIT_GAP * temperature;
  const candidates: { id: number; weight: number }[] = [];
  let total = 0;
  for (let i = 0; i < limit; i++) {
    if (logits[i] < floor) continue;
    const weight = Math.exp((logits[i] - max) / temperature);
    candidates.push({ id: i, weight });
    total += weight;
  }
  candidates.sort((a, b) => b.weight - a.weight || a.id - b.id);
  let kept = candidates.length;
  if (topP < 1) {
    let mass = 0;
    for (let i = 0; i < candidates.length; i++) {
      mass += candidates[i].weight / total;
      if (mass >= topP) {
        kept = i + 1;
        break;
      }
    }
  }
  let keptTotal = 0;
  for (let i = 0; i < kept; i++) keptTotal += candidates[i].weight;
  let draw = random() * keptTotal;
  for (let i = 0; i < kept; i++) {
    draw -= candidates[i].weight;
    if (draw < 0) return candidates[i].id;
  }
  return candidates[kept - 1].id;
}
