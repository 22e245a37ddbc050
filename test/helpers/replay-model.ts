/**
 * A fake CWM that knows a real trace (recorded with our tracer) and writes what a perfect model would
 * write after the sequence so far. It follows the sequence's frames through the real trace by their
 * events: a frame whose event matches the real one stands for it (an edited frame included, so the
 * trace simply goes on); a <|return_sep|> where reality goes on inside a call jumps to that call's
 * matching return, as a forced return does; a frame that begins with no event token stands for nothing.
 * Every frame is written as our tracer's text writes it (".." against the real previous frame), and
 * <|end_of_text|> follows the last frame.
 */
import * as fs from 'node:fs';
import { CwmTokenizer } from '../../src/model/tokenizer';
import { encodeFrameTokens } from '../../src/predictor/frame-tokens';
import { RecordedFrame, TraceFrame } from '../../src/trace/frame';
import { buildPromptProgram, PromptProgram, TraceTarget } from '../../src/trace/prompt';
import { SPECIAL_TOKENS as T } from '../../src/trace/tokens';
import { startTrace, TraceResult } from '../../src/runtime/tracer';
import { defaultPython } from './env';
import { FakeBackend, FakeBackendOptions, Oracle } from './fake-backend';
import { readSequence, startsWith } from './sequence-reader';

export interface ReplayOptions {
  /** What the model writes in place of real frame `index`; undefined: the real frame (a model that errs there). */
  readonly mistake?: (index: number, frame: RecordedFrame) => TraceFrame | undefined;
}

export class ReplayOracle implements Oracle {
  private readonly frameSep: number;
  private readonly endOfText: number;
  private readonly returnSep: number;

  constructor(
    private readonly tokenizer: CwmTokenizer,
    readonly frames: readonly RecordedFrame[],
    private readonly options: ReplayOptions = {},
  ) {
    this.frameSep = tokenizer.special(T.frameSep);
    this.endOfText = tokenizer.special(T.endOfText);
    this.returnSep = tokenizer.special(T.returnSep);
  }

  next(context: readonly number[]): readonly number[] {
    const read = readSequence(this.tokenizer, context);
    if (read.ended) return [this.endOfText];
    let position = 0;
    const open: number[] = []; // activations entered and not yet returned from, innermost last
    const pass = (frame: RecordedFrame): void => {
      if (frame.event === 'call') open.push(frame.origin.activation);
      if (frame.event === 'return') open.pop();
    };
    for (const chunk of read.frames) {
      if (!chunk.event) continue;
      const real = this.frames[position];
      if (chunk.event === 'return' && real?.event !== 'return') {
        const jump = this.matchingReturn(position, open);
        if (jump !== undefined) {
          open.pop();
          position = jump + 1;
          continue;
        }
      }
      if (real) pass(real);
      position++;
    }

    let target = position;
    if (read.partial[0] === this.returnSep && this.frames[position]?.event !== 'return') {
      target = this.matchingReturn(position, open) ?? this.frames.length;
    }
    if (target >= this.frames.length) return read.partial.length > 0 ? [this.frameSep] : [this.endOfText];
    const real = this.frames[target];
    const written = this.options.mistake?.(target, real) ?? real;
    const expected = encodeFrameTokens(this.tokenizer, written, this.frames[target - 1]).tokens;
    if (startsWith(expected, read.partial)) return expected.slice(read.partial.length);
    return this.realign(expected, read.partial);
  }

  /**
   * The frame so far holds tokens this model would not have written (forced, or teacher-forced while
   * scoring). Like a model that knows the frame's structure, it finishes the part being written if that
   * part still agrees, else closes it with the separator it expects, and writes the later parts as it
   * would have: a wrong value costs the value, not the source line after it.
   */
  private realign(expected: readonly number[], partial: readonly number[]): readonly number[] {
    const isSeparator = (id: number): boolean => this.tokenizer.specialOf(id) !== undefined;
    const separatorsWritten = partial.filter(isSeparator).length;
    const partStart = (tokens: readonly number[], separators: number): number => {
      let seen = 0;
      for (let i = 0; i < tokens.length; i++) {
        if (seen === separators) return i;
        if (isSeparator(tokens[i])) seen++;
      }
      return seen === separators ? tokens.length : -1;
    };
    const expectedPart = partStart(expected, separatorsWritten);
    if (expectedPart < 0 || expectedPart >= expected.length) return [this.frameSep];
    const writtenPart = partial.slice(partStart(partial, separatorsWritten));
    if (startsWith(expected.slice(expectedPart), writtenPart)) return expected.slice(expectedPart + writtenPart.length);
    let close = expectedPart;
    while (close < expected.length && !isSeparator(expected[close])) close++;
    return close < expected.length ? expected.slice(close) : [this.frameSep];
  }

  /** Index of the return that ends the innermost open activation, at or after `from`. */
  private matchingReturn(from: number, open: readonly number[]): number | undefined {
    const activation = open[open.length - 1];
    if (activation === undefined) return undefined;
    for (let i = from; i < this.frames.length; i++) {
      const frame = this.frames[i];
      if (frame.event === 'return' && frame.origin.activation === activation) return i;
    }
    return undefined;
  }
}

export function replayBackend(tokenizer: CwmTokenizer, frames: readonly RecordedFrame[], options: ReplayOptions & FakeBackendOptions = {}): FakeBackend {
  return new FakeBackend(tokenizer, new ReplayOracle(tokenizer, frames, options), options);
}

export interface RecordedProgram {
  readonly program: PromptProgram;
  readonly trace: TraceResult;
}

/** Runs a program under our tracer with the test Python; the trace must have reached its end. */
export async function recordProgram(programPath: string, target: TraceTarget): Promise<RecordedProgram> {
  const program = buildPromptProgram(fs.readFileSync(programPath, 'utf8'), target);
  const trace = await startTrace({ programPath, program, python: defaultPython() }).done;
  if (trace.end.reason !== 'returned' && trace.end.reason !== 'raised') {
    throw new Error(`tracing ${programPath} ended with ${trace.end.reason}: ${trace.end.message}`);
  }
  return { program, trace };
}
