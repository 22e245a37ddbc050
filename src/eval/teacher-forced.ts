/**
 * Teacher-forced per-step prediction (CWM's Table 9): at each step k the model reads the prompt and
 * the real frames 0..k-1, and writes frame k greedily.
 *
 * One sequence per row, and its KV cache is kept: after step k the generated frame is cut off and the
 * real frame k appended, so every step costs the new tokens only. The real frames are written as our
 * tracer's text writes them (".." for unchanged values, against the real previous frame).
 */
import type { ModelBackend } from '../model/backend';
import type { CwmTokenizer } from '../model/tokenizer';
import { grammarAfter } from '../predictor/frame-grammar';
import { encodeFrameTokens } from '../predictor/frame-tokens';
import type { ProgramFacts } from '../predictor/program-facts';
import { buildPromptTokens } from '../predictor/prompt-tokens';
import type { TraceFrame } from '../trace/frame';
import type { PromptProgram } from '../trace/prompt';
import { SPECIAL_TOKENS as T } from '../trace/tokens';
import { judgePrediction, ModelJudgement } from './judge';

/** The token layout of a row's steps, known before any model runs. */
export interface StepPlan {
  readonly prompt: readonly number[];
  /** Each real frame's tokens, in trace order. */
  readonly frameTokens: ReadonlyArray<readonly number[]>;
  /**
   * Steps 0..eligible-1 are measured. Step k needs room for its prefix (prompt and frames 0..k-1)
   * plus a whole frame budget; the prefix only grows, so once a step does not fit, no later one does.
   */
  readonly eligible: number;
}

export function planSteps(tokenizer: CwmTokenizer, program: PromptProgram, frames: readonly TraceFrame[], contextLength: number, maxFrameTokens: number): StepPlan {
  const prompt = buildPromptTokens(tokenizer, program).prompt;
  const frameTokens = frames.map((frame, i) => encodeFrameTokens(tokenizer, frame, frames[i - 1]).tokens);
  let prefix = prompt.length;
  let eligible = 0;
  while (eligible < frames.length && prefix + maxFrameTokens <= contextLength) {
    prefix += frameTokens[eligible].length;
    eligible++;
  }
  return { prompt, frameTokens, eligible };
}

export interface TeacherForcedOptions {
  readonly maxFrameTokens: number;
  readonly signal?: AbortSignal;
  /** Frame-grammar decoding with the rules of this program (the backend must constrain its output). */
  readonly grammar?: ProgramFacts;
}

/** The model's judged prediction of each eligible step, in order. */
export async function teacherForcedSteps(backend: ModelBackend, frames: readonly TraceFrame[], plan: StepPlan, options: TeacherForcedOptions): Promise<ModelJudgement[]> {
  const { tokenizer, info } = backend;
  const stopTokenIds = [tokenizer.special(T.frameSep), ...info.eosTokenIds];
  const endIds = new Set(info.eosTokenIds);
  const judgements: ModelJudgement[] = [];
  if (plan.eligible === 0) return judgements;
  const sequence = await backend.createSequence(plan.prompt);
  try {
    for (let k = 0; k < plan.eligible; k++) {
      const prefix = sequence.length;
      // The grammar knows what the real frames before step k said, as the model has read them.
      const constraint = options.grammar
        ? { constraint: grammarAfter(tokenizer, options.grammar, frames.slice(0, k).map((frame) => ({ frame })), endIds) }
        : {};
      const generated = await sequence.generate({ maxTokens: options.maxFrameTokens, stopTokenIds, ...constraint, ...(options.signal ? { signal: options.signal } : {}) });
      judgements.push(judgePrediction(tokenizer, endIds, generated, frames[k - 1], frames[k]));
      if (k + 1 < plan.eligible) {
        await sequence.truncate(prefix);
        await sequence.append(plan.frameTokens[k]);
      }
    }
  } finally {
    sequence.dispose();
  }
  return judgements;
}
