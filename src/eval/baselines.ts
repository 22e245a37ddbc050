/**
 * Two predictors with no model, judged on exactly the steps the model is, so that a model's per-step
 * numbers can be read against what costs nothing:
 * - repeat previous frame: frame k is predicted to be real frame k-1, event, line and state;
 * - next line: a `line` event on the next line of code after real frame k-1's line (the next physical
 *   line of the prompt source that is neither blank nor only a comment), holding frame k-1's locals
 *   when that frame has locals; after a return or exception frame it predicts no state.
 * At step 0 neither has a previous frame: it predicts nothing and matches nothing. Both always write a
 * well-formed frame, so valid format does not apply to them.
 */
import type { RecordedFrame, TraceFrame } from '../trace/frame';
import { sameAction, sameState } from './frame-match';

export interface BaselineJudgement {
  readonly action: boolean;
  readonly state: boolean;
}

export interface BaselineGuess {
  readonly frame: TraceFrame;
  /** The guess says nothing about state (its locals are a placeholder): the state never matches. */
  readonly stateless?: boolean;
}

export function repeatPreviousFrame(frames: readonly TraceFrame[], step: number): BaselineGuess | undefined {
  return step > 0 ? { frame: frames[step - 1] } : undefined;
}

/** @param sourceLines the prompt source's physical lines (program.source split at newlines). */
export function nextLineGuess(sourceLines: readonly string[], frames: readonly RecordedFrame[], step: number): BaselineGuess | undefined {
  if (step === 0) return undefined;
  const previous = frames[step - 1];
  // A frame in another file (a wider trace scope) has a line number of that file, not of the prompt.
  if (previous.origin.file !== undefined) return undefined;
  const source = nextCodeLine(sourceLines, previous.origin.line);
  if (source === undefined) return undefined;
  if ('locals' in previous) return { frame: { event: 'line', locals: previous.locals, source } };
  return { frame: { event: 'line', locals: [], source }, stateless: true };
}

/** The first line after 1-based `line` that holds code. */
export function nextCodeLine(sourceLines: readonly string[], line: number): string | undefined {
  for (let i = Math.max(0, line); i < sourceLines.length; i++) {
    const text = sourceLines[i].trim();
    if (text !== '' && !text.startsWith('#')) return sourceLines[i];
  }
  return undefined;
}

export function judgeGuess(guess: BaselineGuess | undefined, real: TraceFrame): BaselineJudgement {
  if (!guess) return { action: false, state: false };
  return { action: sameAction(guess.frame, real), state: !guess.stateless && sameState(guess.frame, real) };
}
