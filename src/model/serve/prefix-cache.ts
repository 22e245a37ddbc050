/**
 * Prefix caching for a backend that keeps state per sequence (the ONNX engine's KV cache): the
 * sequences of recent requests are kept, and a new request starts from the one sharing the longest
 * prefix with its prompt, so re-sending a long prompt costs only its new tokens. A request always
 * gets a sequence of its own: a cached one that is wholly a prefix of the prompt is handed over
 * (nothing of it would be lost), any other is forked and the fork truncated; cached sequences are
 * never changed in place.
 */
import type { ModelBackend, ModelSequence } from '../backend';

interface Entry {
  readonly sequence: ModelSequence;
  /** The tokens it held when cached (it is not changed while cached). */
  readonly tokens: readonly number[];
}

export interface Lease {
  /** Holds the first `reused` tokens of the prompt; the caller owns it. */
  readonly sequence: ModelSequence;
  readonly reused: number;
}

export class PrefixCache {
  /** Least recently used first. */
  private entries: Entry[] = [];

  constructor(
    private readonly backend: ModelBackend,
    private readonly capacity: number,
  ) {}

  get size(): number {
    return this.entries.length;
  }

  /** A sequence holding the longest cached prefix of `prompt`, at most `limit` tokens of it. */
  async take(prompt: readonly number[], limit: number): Promise<Lease> {
    let best: Entry | undefined;
    let bestLength = 0;
    for (const entry of this.entries) {
      const length = commonPrefix(entry.tokens, prompt, limit);
      if (length > bestLength) {
        best = entry;
        bestLength = length;
      }
    }
    if (!best) return { sequence: await this.backend.createSequence(), reused: 0 };
    if (best.tokens.length === bestLength) {
      this.entries = this.entries.filter((entry) => entry !== best);
      return { sequence: best.sequence, reused: bestLength };
    }
    const sequence = await best.sequence.fork();
    try {
      await sequence.truncate(bestLength);
    } catch (error) {
      sequence.dispose();
      throw error;
    }
    this.touch(best);
    return { sequence, reused: bestLength };
  }

  /** Keeps a sequence the caller is done with; the least recently used one goes when full. */
  put(sequence: ModelSequence): void {
    const tokens = sequence.tokens();
    if (tokens.length === 0 || this.capacity <= 0) {
      sequence.dispose();
      return;
    }
    // A cached sequence that the new one extends would never be chosen again: drop it.
    this.entries = this.entries.filter((entry) => {
      const covered = entry.tokens.length <= tokens.length && commonPrefix(entry.tokens, tokens, entry.tokens.length) === entry.tokens.length;
      if (covered) entry.sequence.dispose();
      return !covered;
    });
    this.entries.push({ sequence, tokens });
    while (this.entries.length > this.capacity) this.entries.shift()?.sequence.dispose();
  }

  clear(): void {
    for (const entry of this.entries) entry.sequence.dispose();
    this.entries = [];
  }

  private touch(entry: Entry): void {
    this.entries = [...this.entries.filter((e) => e !== entry), entry];
  }
}

function commonPrefix(a: readonly number[], b: readonly number[], limit: number): number {
  const n = Math.min(a.length, b.length, limit);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
