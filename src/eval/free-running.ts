/**
 * Free-running prediction (CWM's "trace full"): a fresh predictor, greedy, from the bare prompt until
 * the model ends the trace or a limit comes first. What counts is the value of the final frame when it
 * is the return of the entry activation (depth 1: main's return); whether it equals the expected output
 * is decided later, for all rows at once (runtime/same-values.ts).
 */
import { GenerateOptions, GenerateResult, ModelBackend, ModelError, ModelSequence, ScoreOptions, TokenScore } from '../model/backend';
import { PredictionEnd, predictToEnd, Predictor } from '../predictor/predictor';
import type { PromptProgram } from '../trace/prompt';

export interface FreeRun {
  /** Why the prediction stopped; `context` also when the prompt alone did not fit. */
  readonly end: PredictionEnd;
  /** Steps predicted (a malformed one counts: it cost a generation). */
  readonly frames: number;
  /** Tokens the model generated, stop and end tokens included, forced event tokens not. */
  readonly tokens: number;
  readonly ms: number;
  /** The value of the final frame, when that frame is the entry's return. */
  readonly predicted?: string;
}

export interface FreeRunOptions {
  readonly maxSteps: number;
  readonly maxFrameTokens: number;
  readonly signal?: AbortSignal;
  /** Frame-grammar decoding (where the backend can). */
  readonly grammar: boolean;
}

export async function freeRun(backend: ModelBackend, program: PromptProgram, options: FreeRunOptions): Promise<FreeRun> {
  const started = performance.now();
  const sequence = new CountingSequence(await backend.createSequence());
  const predictor = new Predictor(backend, sequence, { maxTokensPerFrame: options.maxFrameTokens, grammar: options.grammar });
  try {
    let end: PredictionEnd;
    try {
      await predictor.start(program);
      end = await predictToEnd(predictor, { maxSteps: options.maxSteps, ...(options.signal ? { signal: options.signal } : {}) });
    } catch (error) {
      if (!(error instanceof ModelError && error.code === 'context')) throw error;
      end = 'context';
    }
    const last = predictor.current;
    const run: { -readonly [K in keyof FreeRun]: FreeRun[K] } = { end, frames: predictor.steps.length, tokens: sequence.generated, ms: performance.now() - started };
    if (last?.frame?.event === 'return' && last.depth === 1) run.predicted = last.frame.value;
    return run;
  } finally {
    predictor.dispose();
  }
}

/** A sequence that counts the tokens generated in it; everything else goes straight through. */
class CountingSequence implements ModelSequence {
  generated = 0;

  constructor(private readonly inner: ModelSequence) {}

  get length(): number {
    return this.inner.length;
  }

  tokens(): number[] {
    return this.inner.tokens();
  }

  append(tokens: readonly number[]): Promise<void> {
    return this.inner.append(tokens);
  }

  async generate(options: GenerateOptions): Promise<GenerateResult> {
    const result = await this.inner.generate(options);
    this.generated += result.tokens.length;
    return result;
  }

  truncate(length: number): Promise<void> {
    return this.inner.truncate(length);
  }

  fork(): Promise<ModelSequence> {
    return this.inner.fork();
  }

  score(continuation: readonly number[], options?: ScoreOptions): Promise<TokenScore[]> {
    return this.inner.score(continuation, options);
  }

  dispose(): void {
    this.inner.dispose();
  }
}
