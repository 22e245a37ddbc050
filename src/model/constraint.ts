/**
 * Constrained decoding: a caller that knows which tokens may come next (the predictor's frame grammar)
 * hands the backend a TokenConstraint, and every generated token is one it allows. The backend only
 * needs the next-token logits; what is allowed is the caller's business.
 */
import type { SamplingOptions } from './backend';
import { argmax, chooseToken } from './sampling';

export interface TokenConstraint {
  /** Whether `id` may be the next token. */
  allows(id: number): boolean;
  /** Records that `id` (which allows() accepted) was generated. */
  accept(id: number): void;
  /** Told before each token how many the generation may still take, so that it can end in time. */
  tokensLeft?(count: number): void;
  /** An allowed token that spells the beginning of the (not allowed) token `id`, if there is one. */
  allowedPrefix?(id: number): number | undefined;
}

/** Candidates tried in order of the model's preference before the whole vocabulary is checked at once. */
const GREEDY_TRIES = 16;

/**
 * The next token among those the constraint allows: greedy (the most likely allowed token, ties to the
 * lowest id) or a draw from the allowed tokens' renormalized distribution. Undefined when it allows
 * none, which a sound grammar never does.
 */
export function chooseAllowed(logits: Float32Array, constraint: TokenConstraint, options: SamplingOptions, random: () => number, limit: number): number | undefined {
  const masked = logits.slice(0, limit);
  if (!((options.temperature ?? 0) > 0)) {
    // Usually the model's own first or second choice is allowed: look at those before the rest. A
    // choice that is not allowed as a whole may be in part: `'"}` where only `'"` may come keeps the
    // model's intent (close the string) better than its next whole token would.
    for (let tries = 0; tries < GREEDY_TRIES; tries++) {
      const best = argmax(masked);
      if (masked[best] === -Infinity) return undefined;
      if (constraint.allows(best)) return best;
      const prefix = constraint.allowedPrefix?.(best);
      if (prefix !== undefined) return prefix;
      masked[best] = -Infinity;
    }
  }
  let any = false;
  for (let id = 0; id < limit; id++) {
    if (masked[id] === -Infinity) continue;
    if (constraint.allows(id)) any = true;
    else masked[id] = -Infinity;
  }
  return any ? chooseToken(masked, options, random, limit) : undefined;
}
