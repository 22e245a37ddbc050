/** Small fake models for what a replay of reality cannot show: echoed state, garbage, invented arguments. */
import { SamplingOptions } from '../../src/model/backend';
import { CwmTokenizer } from '../../src/model/tokenizer';
import { encodeFrameTokens } from '../../src/predictor/frame-tokens';
import { decodePieces, feedPieces } from '../../src/predictor/pieces';
import { Locals, TraceFrame } from '../../src/trace/frame';
import { pyJsonStringObject } from '../../src/trace/pyjson';
import { TraceParser } from '../../src/trace/parser';
import { SPECIAL_TOKENS as T } from '../../src/trace/tokens';
import { Oracle } from './fake-backend';
import { readSequence } from './sequence-reader';

export interface EchoOptions {
  /** The entry call frame it writes first (it may depend on the sampling seed: invented arguments). */
  readonly first: (sampling: SamplingOptions) => TraceFrame & { readonly locals: Locals };
  /** 'full': repeat every value; 'unchanged': write every value as "..". */
  readonly style: 'full' | 'unchanged';
  /** Source line of every echoed frame. */
  readonly source: string;
  /** Frames after which it ends the trace. */
  readonly frames: number;
}

/**
 * Writes, after the last call/line frame, a line frame with that frame's locals as the sequence holds
 * them: what the next frame sees is exactly what the sequence says, never the predictor's memory of it.
 */
export class EchoOracle implements Oracle {
  constructor(
    private readonly tokenizer: CwmTokenizer,
    private readonly options: EchoOptions,
  ) {}

  next(context: readonly number[], sampling: SamplingOptions): readonly number[] {
    const read = readSequence(this.tokenizer, context);
    const frames = this.framesOf(context.slice(read.promptEnd, context.length - read.partial.length));
    if (read.ended || frames.length >= this.options.frames) return [this.tokenizer.special(T.endOfText)];
    let tokens: readonly number[];
    const last = [...frames].reverse().find((frame): frame is TraceFrame & { locals: Locals } => 'locals' in frame);
    if (!last) {
      tokens = encodeFrameTokens(this.tokenizer, this.options.first(sampling)).tokens;
    } else {
      const locals: Locals = this.options.style === 'full' ? last.locals : last.locals.map(([name]) => [name, '..']);
      tokens = [
        this.tokenizer.special(T.lineSep),
        ...this.tokenizer.encodeText(pyJsonStringObject(locals)),
        this.tokenizer.special(T.actionSep),
        ...this.tokenizer.encodeText(this.options.source + '\n'),
        this.tokenizer.special(T.frameSep),
      ];
    }
    return tokens.slice(read.partial.length);
  }

  /** The sequence's frames as a parser reads them (".." resolved). */
  private framesOf(tokens: readonly number[]): TraceFrame[] {
    const parser = new TraceParser();
    feedPieces(parser, decodePieces(this.tokenizer, tokens));
    return parser.frames;
  }
}

/**
 * A flaky model: for the first `times` requests made while exactly `at` frames are complete, it writes
 * `garbage` (after whatever event token was forced), else it asks `inner`.
 */
export class FlakyOracle implements Oracle {
  private left: number;

  constructor(
    private readonly tokenizer: CwmTokenizer,
    private readonly inner: Oracle,
    private readonly at: number,
    times: number,
    private readonly garbage: readonly number[],
  ) {
    this.left = times;
  }

  next(context: readonly number[], sampling: SamplingOptions): readonly number[] {
    const read = readSequence(this.tokenizer, context);
    if (read.frames.length === this.at && this.left > 0) {
      this.left--;
      return this.garbage;
    }
    return this.inner.next(context, sampling);
  }
}
