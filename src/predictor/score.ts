/**
 * Teacher-forced scoring of a real trace: the recorded frames are written after the prompt exactly as
 * the model would have to write them, and one `score` call tells, for every token, how likely the model
 * found it and what it would have written instead. That shows where prediction and reality part without
 * decoding step by step (one forward pass instead of one generation per frame).
 *
 * Caveat: the comparison is token by token. A repr holding a memory address (`<object at 0x7f…>`)
 * never matches; compare decoded frames with compareFrames (trace/compare.ts) where that matters.
 */
import type { ModelSequence, TokenScore } from '../model/backend';
import type { CwmTokenizer } from '../model/tokenizer';
import type { TraceFrame } from '../trace/frame';
import { SPECIAL_TOKENS as T } from '../trace/tokens';
import { encodeFrameTokens, TokenRole } from './frame-tokens';

export interface ScoreTraceOptions {
  /** The trace left the entry function: also score the model's <|end_of_text|> after the last frame. */
  readonly complete?: boolean;
  /** Leading frames the prediction is given rather than asked for (the teacher-forced entry call frame):
   *  scored, but never reported as the first divergence. */
  readonly givenFrames?: number;
  /** The model's context: frames that would not fit after the sequence are left out. */
  readonly contextLength?: number;
  /** Ids that end a trace (for the end's match); default <|end_of_text|>. */
  readonly eosTokenIds?: readonly number[];
  readonly signal?: AbortSignal;
}

export interface PartScore {
  /** Sum of the log-probabilities of this part's tokens. */
  readonly logprob: number;
  /** The model's top choice was the actual token at every position of this part. */
  readonly match: boolean;
  /** Offset (within the frame's tokens) of the first token where the top choice differs. */
  readonly firstMismatch?: number;
}

export interface FrameScore {
  readonly index: number;
  /** Offset of the frame's first token in the scored continuation. */
  readonly tokenStart: number;
  readonly scores: readonly TokenScore[];
  readonly roles: readonly TokenRole[];
  readonly logprob: number;
  /** The event and the source line: where the model thinks execution goes. */
  readonly action: PartScore;
  /** The locals or the returned/raised value: what the model thinks execution holds. */
  readonly state: PartScore;
  readonly given: boolean;
}

export interface TraceScore {
  readonly frames: readonly FrameScore[];
  /** The <|end_of_text|> after the last frame, when the trace was complete and it fit. */
  readonly end?: { readonly logprob: number; readonly match: boolean; readonly topTokenId: number };
  /** Some frames did not fit in the context and were not scored. */
  readonly cutByContext: boolean;
  /** The first frame (not given) whose action or state the model would not have written greedily. */
  readonly firstDivergence?: number;
}

/**
 * Scores `frames` as the continuation of `sequence` (which must hold the prompt and nothing after it).
 * The frames are written the way our tracer's text is (".." for unchanged values).
 */
export async function scoreFrames(sequence: ModelSequence, tokenizer: CwmTokenizer, frames: readonly TraceFrame[], options: ScoreTraceOptions = {}): Promise<TraceScore> {
  const room = options.contextLength === undefined ? Infinity : options.contextLength - sequence.length;
  const encoded: Array<{ tokens: readonly number[]; roles: readonly TokenRole[] }> = [];
  let used = 0;
  for (let i = 0; i < frames.length; i++) {
    const frame = encodeFrameTokens(tokenizer, frames[i], frames[i - 1]);
    if (used + frame.tokens.length > room) break;
    encoded.push(frame);
    used += frame.tokens.length;
  }
  const cutByContext = encoded.length < frames.length;
  const endId = tokenizer.special(T.endOfText);
  const scoreEnd = options.complete === true && !cutByContext && used + 1 <= room;

  const continuation = encoded.flatMap((frame) => frame.tokens);
  if (scoreEnd) continuation.push(endId);
  if (continuation.length === 0) return { frames: [], cutByContext };
  const scores = await sequence.score(continuation, { signal: options.signal });

  const given = options.givenFrames ?? 0;
  const frameScores: FrameScore[] = [];
  let offset = 0;
  for (const [index, frame] of encoded.entries()) {
    const own = scores.slice(offset, offset + frame.tokens.length);
    frameScores.push({
      index,
      tokenStart: offset,
      scores: own,
      roles: frame.roles,
      logprob: sum(own.map((score) => score.logprob)),
      action: partScore(own, frame.roles, 'action'),
      state: partScore(own, frame.roles, 'state'),
      given: index < given,
    });
    offset += frame.tokens.length;
  }
  const firstDivergence = frameScores.find((frame) => !frame.given && !(frame.action.match && frame.state.match))?.index;
  const result: { -readonly [K in keyof TraceScore]: TraceScore[K] } = { frames: frameScores, cutByContext };
  if (firstDivergence !== undefined) result.firstDivergence = firstDivergence;
  if (scoreEnd) {
    const last = scores[scores.length - 1];
    const endIds = options.eosTokenIds ?? [endId];
    result.end = { logprob: last.logprob, match: endIds.includes(last.topTokenId), topTokenId: last.topTokenId };
  }
  return result;
}

function partScore(scores: readonly TokenScore[], roles: readonly TokenRole[], role: TokenRole): PartScore {
  let logprob = 0;
  let firstMismatch: number | undefined;
  scores.forEach((score, i) => {
    if (roles[i] !== role) return;
    logprob += score.logprob;
    if (firstMismatch === undefined && score.topTokenId !== score.tokenId) firstMismatch = i;
  });
  return firstMismatch === undefined ? { logprob, match: true } : { logprob, match: false, firstMismatch };
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
