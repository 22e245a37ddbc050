/**
 * The predictor's reading of its sequence after the prompt: the steps in order, the end token if the
 * model wrote one, and a TraceParser that has read exactly those steps. Every change goes through here,
 * so the parser's ".." state can never disagree with the kept steps: dropping steps rebuilds the parser
 * from the kept steps' decoded pieces (TraceParser has no snapshot, and re-reading is cheap string work).
 */
import type { CwmTokenizer, DecodedPiece } from '../model/tokenizer';
import type { TraceFrame } from '../trace/frame';
import { TraceParser } from '../trace/parser';
import { asSpecialToken, SPECIAL_TOKENS as T } from '../trace/tokens';
import { frameDepth } from './depth';
import { decodePieces, feedPieces, piecesText } from './pieces';
import type { PredictedStep, StepIssue, StepOrigin } from './steps';

/** The end token the model wrote, and where it sits in the sequence. */
export interface EndMark {
  readonly at: number;
  readonly id: number;
}

export interface StepRecord {
  readonly view: PredictedStep;
  readonly tokens: readonly number[];
  readonly pieces: readonly DecodedPiece[];
  /** Depth of the activation the next frame runs in. */
  readonly depthAfter: number;
}

/** What restore() puts back. */
export interface LogState {
  readonly steps: readonly StepRecord[];
  readonly end: EndMark | undefined;
}

export interface NewStep {
  /** The step's tokens, already in the sequence from `start` on (an end token after them excluded). */
  readonly tokens: readonly number[];
  readonly start: number;
  readonly origin: StepOrigin;
  readonly forced: boolean;
  /** Why the frame did not end, and the words to say it with. */
  readonly truncated?: { readonly reason: 'length' | 'context'; readonly message: string };
  /** The end token the model wrote right after these tokens. */
  readonly endToken?: number;
}

const EVENT_TOKENS: ReadonlyMap<string, TraceFrame['event']> = new Map([
  [T.callSep, 'call'],
  [T.lineSep, 'line'],
  [T.returnSep, 'return'],
  [T.exceptionSep, 'exception'],
]);

export class StepLog {
  private records: StepRecord[] = [];
  private endMark: EndMark | undefined;
  private parser = new TraceParser();

  constructor(private readonly tokenizer: CwmTokenizer) {}

  get steps(): readonly StepRecord[] {
    return this.records;
  }

  get last(): StepRecord | undefined {
    return this.records[this.records.length - 1];
  }

  get end(): EndMark | undefined {
    return this.endMark;
  }

  /** Depth of the activation the next frame runs in (0 before the entry's call). */
  get depthAfter(): number {
    return this.last?.depthAfter ?? 0;
  }

  /** Reads a step's tokens with the parser and records the step. */
  add(step: NewStep): StepRecord {
    const index = this.records.length;
    const pieces = decodePieces(this.tokenizer, step.tokens);
    const events = feedPieces(this.parser, pieces);
    if (step.endToken !== undefined) events.push(...this.parser.feedToken(T.endOfText));
    let frame: TraceFrame | undefined;
    const issues: StepIssue[] = [];
    for (const event of events) {
      if (event.type === 'frame') frame = event.frame;
      else if (event.type === 'error') issues.push({ kind: event.error.kind, message: event.error.message });
    }
    if (step.truncated) issues.push({ kind: 'truncated', message: step.truncated.message });
    // The parser reports stray text only once until the next event token; a step must still say why
    // it has no frame.
    if (!frame && issues.length === 0) issues.push({ kind: 'no-frame', message: `the model wrote no frame: ${JSON.stringify(piecesText(pieces).slice(0, 80))}` });
    const event = frame?.event ?? firstEvent(pieces);
    const { depth, after } = frameDepth(event, this.depthAfter);
    const view: { -readonly [K in keyof PredictedStep]: PredictedStep[K] } = {
      index,
      issues,
      tokenStart: step.start,
      tokenEnd: step.start + step.tokens.length,
      origin: step.origin,
      forced: step.forced,
      depth,
      text: piecesText(pieces),
    };
    if (frame) view.frame = frame;
    if (event) view.event = event;
    if (step.truncated) view.truncated = step.truncated.reason;
    const record: StepRecord = { view, tokens: [...step.tokens], pieces, depthAfter: after };
    this.records.push(record);
    if (step.endToken !== undefined) this.endMark = { at: view.tokenEnd, id: step.endToken };
    return record;
  }

  /** The model ended the trace between frames, with token `id` at position `at`. */
  markEnd(at: number, id: number): void {
    this.parser.feedToken(T.endOfText);
    this.endMark = { at, id };
  }

  /** Keeps the first `count` steps and forgets the end. */
  keep(count: number): void {
    this.restore({ steps: this.records.slice(0, count), end: undefined });
  }

  state(): LogState {
    return { steps: this.records.slice(), end: this.endMark };
  }

  restore(state: LogState): void {
    this.records = state.steps.slice();
    this.endMark = state.end;
    this.parser = new TraceParser();
    for (const record of this.records) feedPieces(this.parser, record.pieces);
    if (this.endMark) this.parser.feedToken(T.endOfText);
  }

  /** The tokens the sequence holds after the prompt: every step's, then the end token. */
  tokens(): number[] {
    return [...this.records.flatMap((record) => record.tokens), ...(this.endMark ? [this.endMark.id] : [])];
  }
}

function firstEvent(pieces: readonly DecodedPiece[]): TraceFrame['event'] | undefined {
  for (const piece of pieces) {
    if (piece.kind !== 'special') continue;
    const token = asSpecialToken(piece.token);
    const event = token && EVENT_TOKENS.get(token);
    if (event) return event;
  }
  return undefined;
}
