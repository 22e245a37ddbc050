/**
 * Judges what the model generated for one teacher-forced step against the real frame.
 *
 * The prediction is read by a fresh TraceParser that has first read the real previous frame with
 * every value written out, so a ".." in the prediction resolves against the real previous state (a ".."
 * with nothing to resolve against is left as the text ".." and only costs the state). The previous
 * frame goes in as its parts and the prediction as decoded pieces, never as one spelled-out string: a
 * value holding the characters `<|frame_sep|>` stays text, as the token ids say.
 *
 * Valid format: exactly one complete frame with no parse error but `unresolved-unchanged`, ended by
 * <|frame_sep|>; or a bare end-of-trace token (any of the model's end ids), a well-formed "the trace
 * ended" that matches no real frame. Running out of tokens (or of context) is invalid.
 */
import type { FinishReason } from '../model/backend';
import type { CwmTokenizer } from '../model/tokenizer';
import { frameParts } from '../predictor/frame-tokens';
import { decodePieces, feedPieces, piecesText } from '../predictor/pieces';
import type { TraceFrame } from '../trace/frame';
import { TraceParser } from '../trace/parser';
import { sameAction, sameState } from './frame-match';

export interface ModelJudgement {
  readonly valid: boolean;
  /** The prediction was the end of the trace. */
  readonly ended: boolean;
  readonly action: boolean;
  readonly state: boolean;
  /** What the model wrote, special tokens spelled out. */
  readonly text: string;
  /** Why the prediction is not a valid frame. */
  readonly issue?: string;
}

export interface Generated {
  /** The generated ids, the stop token included. */
  readonly tokens: readonly number[];
  readonly finishReason: FinishReason;
}

export function judgePrediction(
  tokenizer: CwmTokenizer,
  endIds: ReadonlySet<number>,
  generated: Generated,
  previous: TraceFrame | undefined,
  real: TraceFrame,
): ModelJudgement {
  const pieces = decodePieces(tokenizer, generated.tokens);
  const text = piecesText(pieces);
  const invalid = (issue: string): ModelJudgement => ({ valid: false, ended: false, action: false, state: false, text, issue });
  if (generated.finishReason === 'length') return invalid(`the frame did not end within ${generated.tokens.length} tokens`);
  if (generated.finishReason === 'context') return invalid("the model's context filled up inside the frame");
  const last = generated.tokens[generated.tokens.length - 1];
  if (last !== undefined && endIds.has(last)) {
    if (generated.tokens.length === 1) return { valid: true, ended: true, action: false, state: false, text };
    return invalid('the trace ended inside a frame');
  }

  const parser = new TraceParser();
  if (previous) {
    for (const part of frameParts(previous)) {
      if (part.kind === 'special') parser.feedToken(part.token);
      else parser.feedPlain(part.text);
    }
  }
  const before = parser.frames.length;
  feedPieces(parser, pieces);
  parser.finish();
  const error = parser.errors.find((e) => e.kind !== 'unresolved-unchanged');
  if (error) return invalid(error.message);
  const frames = parser.frames.slice(before);
  if (frames.length !== 1) return invalid(`${frames.length} frames where one belongs`);
  const frame = frames[0];
  return { valid: true, ended: false, action: sameAction(frame, real), state: sameState(frame, real), text };
}
