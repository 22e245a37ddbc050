/**
 * The predicted world of the neural debugger: CWM writes the trace of a program one frame at a time
 * into one ModelSequence, and the user steps through it, back, and into counterfactuals.
 *
 * The sequence always holds `<|begin_of_text|><|trace_context_start|>SOURCE<|frame_sep|>`, then the
 * steps in order, each ending in <|frame_sep|>, then <|end_of_text|> once the model has ended the trace.
 * The current step is always the last one: going back truncates, going forward predicts.
 *
 * One step = one generation that stops at <|frame_sep|> or an end token, within a per-frame token
 * budget. Output is read by TraceParser from decoded pieces, so only the real <|frame_sep|> token ends a
 * frame and ".." resolves against the values the sequence holds. A malformed frame becomes a step with
 * issues and no frame; the session goes on.
 *
 * Commands (the semantics of Meta's demo, cwm-trace-format.md §6, with its defects fixed):
 * - stepFrame: one free frame. run: free frames until the end, a halt, a frame limit or `until`.
 * - stepInto: if the current frame is a call, force <|line_sep|> (enter the body); else one free frame.
 * - stepOver: one free frame; if it is a call, force <|return_sep|> (the model writes the callee's
 *   return line and value at once), then one more free frame. The landing frame is whatever comes next,
 *   a further call included, as in the demo.
 * - stepOut: free frames, every call forced to return at once, until a return frame at or above the
 *   current scope, then one more frame. The scope is the activation the next frame runs in: the current
 *   frame's own, or the caller's when the current frame is a return (it has already left). The demo
 *   stops at the first return of any depth; this one counts depth (depth.ts), so the forced return of a
 *   nested call does not end the step out. At the entry function, stepOut runs to the entry's return,
 *   then the one more frame is the model's <|end_of_text|>: the trace ends on the entry's return frame.
 *   At most `maxFramesPerCommand` frames (a predicted loop need not terminate).
 * - stepBack / goTo: drop later steps by truncating the sequence, without any model call. The first
 *   step is never dropped (nor the teacher-forced entry frame). Dropping steps also drops the end;
 *   goTo the current step changes nothing (an ended trace stays ended).
 * - resample: drop every step after the prompt (and the teacher-forced entry frame) and predict one
 *   frame again, with a new seed (greedy decoding gives the same frame again).
 * - editLocals: rewrite the current call/line frame with the given locals, every value written out
 *   (never ".."), in place of the model's; the next command predicts from the edited state.
 * - The very first frame, when no entry frame was forced, is predicted with <|call_sep|> forced: every
 *   trace opens with the entry's call (the demo's reset does the same).
 * After any truncation the parser is rebuilt from the kept steps, so ".." never resolves against a
 * dropped or pre-edit value (the demo's stale-cache bug).
 *
 * At <|end_of_text|> the trace has ended: stepping commands return at once with halted 'ended' and make
 * no model call; the current step stays the last frame (normally the entry's return). An end that
 * interrupts a frame leaves that step malformed (issue 'eos-mid-frame') and ends the trace all the same.
 *
 * A frame that exhausts its budget is kept as a truncated step (issue 'truncated', no frame); the next
 * stepping command continues that same frame with a fresh budget rather than starting a new one. A frame
 * cut by the model's context cannot continue: later commands halt with 'context'.
 *
 * Failures: a command that fails (cancellation included: the backend rejects with ModelError
 * 'cancelled') keeps the steps it completed before the failure; the frame in progress is rolled back, so
 * the sequence always ends at a step boundary. Misuse throws PredictorError. One command at a time.
 *
 * Sampling: greedy unless a temperature is set. With a seed, each step is sampled with a seed derived
 * from (seed, step index), so stepping back and forward again reproduces the same frame.
 */
import type { ModelBackend, ModelInfo, ModelSequence, SamplingOptions } from '../model/backend';
import { ModelError } from '../model/backend';
import type { CwmTokenizer } from '../model/tokenizer';
import { UNCHANGED } from '../trace/encoder';
import type { Locals, TraceFrame } from '../trace/frame';
import type { PromptProgram } from '../trace/prompt';
import { SPECIAL_TOKENS as T, SpecialToken } from '../trace/tokens';
import { PredictorError } from './errors';
import { FrameGrammar, grammarAfter } from './frame-grammar';
import { encodeFrameTokens } from './frame-tokens';
import { piecesText } from './pieces';
import { ProgramFacts } from './program-facts';
import { buildPromptTokens } from './prompt-tokens';
import { scoreFrames, TraceScore } from './score';
import { LogState, StepLog } from './step-log';
import type { CommandResult, FrameProgress, HaltReason, PredictedStep, StepIssue, StepOrigin } from './steps';

export const DEFAULT_MAX_TOKENS_PER_FRAME = 2048;
export const DEFAULT_MAX_FRAMES_PER_COMMAND = 10_000;

/** The part of a backend the predictor needs besides its sequence. */
export interface PredictorModel {
  readonly info: ModelInfo;
  readonly tokenizer: CwmTokenizer;
}

export interface PredictorOptions {
  /** Most tokens generated for one frame (default 2048, as in Meta's demo). */
  readonly maxTokensPerFrame?: number;
  /** Default greedy. */
  readonly sampling?: SamplingOptions;
  /** Most frames one step out or run may predict. */
  readonly maxFramesPerCommand?: number;
  readonly onProgress?: (progress: FrameProgress) => void;
  /** Each step as soon as it is complete (a step out adds many). */
  readonly onStep?: (step: PredictedStep) => void;
  /**
   * Frame-grammar decoding (frame-grammar.ts) where the backend can constrain its output
   * (ModelInfo.constrainedDecoding): every frame is well-formed by construction. Default true.
   */
  readonly grammar?: boolean;
}

export interface StartOptions {
  /** The marked entry function's bound arguments: its call frame is then teacher-forced. */
  readonly entryLocals?: Locals;
}

export interface CommandOptions {
  readonly signal?: AbortSignal;
}

export interface RunOptions extends CommandOptions {
  /** Stops the run after a step it returns true for. */
  readonly until?: (step: PredictedStep) => boolean;
}

export interface ScoreOptions extends CommandOptions {
  /** The real trace left the entry function: also score the model's end of trace. */
  readonly complete?: boolean;
}

interface Advance {
  readonly step?: PredictedStep;
  readonly halted?: HaltReason;
}

export class Predictor {
  private readonly tokenizer: CwmTokenizer;
  private readonly info: ModelInfo;
  private readonly stopTokenIds: readonly number[];
  private readonly endIds: ReadonlySet<number>;
  private readonly maxFramesPerCommand: number;
  private readonly onProgress: ((progress: FrameProgress) => void) | undefined;
  private readonly onStep: ((step: PredictedStep) => void) | undefined;
  private maxTokens: number;
  private samplingOptions: SamplingOptions;
  private readonly grammar: boolean;
  /** What the prompt allows a frame to say; set by start(). */
  private facts: ProgramFacts | undefined;

  /** Undefined until start(). */
  private promptTokens: readonly number[] | undefined;
  private readonly log: StepLog;
  /** 1 when the entry's call frame is teacher-forced: resample and step back keep it. */
  private baseSteps = 0;
  private busy = false;
  private brokenBy: unknown;
  private disposed = false;

  constructor(
    model: PredictorModel,
    private readonly sequence: ModelSequence,
    options: PredictorOptions = {},
  ) {
    this.tokenizer = model.tokenizer;
    this.info = model.info;
    this.log = new StepLog(this.tokenizer);
    this.stopTokenIds = [this.tokenizer.special(T.frameSep), ...this.info.eosTokenIds];
    this.endIds = new Set(this.info.eosTokenIds);
    this.maxTokens = positiveInteger(options.maxTokensPerFrame ?? DEFAULT_MAX_TOKENS_PER_FRAME, 'maxTokensPerFrame');
    this.maxFramesPerCommand = positiveInteger(options.maxFramesPerCommand ?? DEFAULT_MAX_FRAMES_PER_COMMAND, 'maxFramesPerCommand');
    this.samplingOptions = { ...options.sampling };
    this.onProgress = options.onProgress;
    this.onStep = options.onStep;
    this.grammar = (options.grammar ?? true) && this.info.constrainedDecoding === true;
  }

  /** A predictor on a new sequence of `backend`, started on `program`. */
  static async open(backend: ModelBackend, program: PromptProgram, start: StartOptions = {}, options: PredictorOptions = {}): Promise<Predictor> {
    const predictor = new Predictor(backend, await backend.createSequence(), options);
    try {
      await predictor.start(program, start);
    } catch (error) {
      predictor.dispose();
      throw error;
    }
    return predictor;
  }

  // ---- what is observable ----

  /** Every step, index i at position i. */
  get steps(): readonly PredictedStep[] {
    return this.log.steps.map((step) => step.view);
  }

  get current(): PredictedStep | undefined {
    return this.log.last?.view;
  }

  /** Index of the current step; -1 before the first frame. */
  get currentIndex(): number {
    return this.log.steps.length - 1;
  }

  /** Call depth of the current frame; 0 before the first. */
  get depth(): number {
    return this.current?.depth ?? 0;
  }

  get ended(): boolean {
    return this.log.end !== undefined;
  }

  get started(): boolean {
    return this.promptTokens !== undefined;
  }

  /** Tokens of the prompt (without the teacher-forced entry frame). */
  get promptLength(): number {
    return this.promptTokens?.length ?? 0;
  }

  /** Every issue of every step, with the step it belongs to. */
  get issues(): ReadonlyArray<StepIssue & { readonly stepIndex: number }> {
    return this.log.steps.flatMap((step) => step.view.issues.map((issue) => ({ ...issue, stepIndex: step.view.index })));
  }

  get sampling(): SamplingOptions {
    return { ...this.samplingOptions };
  }

  get maxTokensPerFrame(): number {
    return this.maxTokens;
  }

  /** Applies to the next steps; predicted steps stay as they are. */
  configure(options: { readonly sampling?: SamplingOptions; readonly maxTokensPerFrame?: number }): void {
    if (options.sampling) this.samplingOptions = { ...options.sampling };
    if (options.maxTokensPerFrame !== undefined) this.maxTokens = positiveInteger(options.maxTokensPerFrame, 'maxTokensPerFrame');
  }

  // ---- commands ----

  /** Puts the prompt (and the entry frame, given entry locals) into the sequence, replacing anything there. */
  start(program: PromptProgram, options: StartOptions = {}): Promise<void> {
    return this.exclusive(async () => {
      if (options.entryLocals) checkLocals(options.entryLocals);
      const prompt = buildPromptTokens(this.tokenizer, program, options.entryLocals);
      this.facts = this.grammar ? new ProgramFacts(program.source) : undefined;
      this.promptTokens = undefined;
      this.baseSteps = 0;
      this.log.keep(0);
      try {
        if (this.sequence.length > 0) await this.sequence.truncate(0);
        await this.sequence.append(prompt.prompt);
        this.promptTokens = prompt.prompt;
        if (prompt.entryFrame) {
          await this.sequence.append(prompt.entryFrame.tokens);
          const step = this.log.add({ tokens: prompt.entryFrame.tokens, start: this.promptTokens.length, origin: 'teacher-forced', forced: true }).view;
          this.baseSteps = 1;
          // A listener shows every step in the trace, the one we wrote included.
          this.onStep?.(step);
        }
      } catch (error) {
        // Not started: a later start() puts the sequence right, nothing else may use it.
        this.promptTokens = undefined;
        this.log.keep(0);
        throw error;
      }
    });
  }

  /** One free frame, whatever the current frame is: the model's own next event. */
  stepFrame(options: CommandOptions = {}): Promise<CommandResult> {
    return this.command(options, async (advance) => {
      await advance(undefined);
    });
  }

  /**
   * Free frames until the trace ends, a frame is malformed or cut, `until` accepts a new step (a
   * breakpoint), or `maxFramesPerCommand` frames were predicted (halted 'frame-limit').
   */
  run(options: RunOptions = {}): Promise<CommandResult> {
    return this.command(options, async (advance, halt) => {
      for (let taken = 0; taken < this.maxFramesPerCommand; taken++) {
        const next = await advance(undefined);
        if (next.halted || !next.step || options.until?.(next.step)) return;
      }
      halt('frame-limit');
    });
  }

  stepInto(options: CommandOptions = {}): Promise<CommandResult> {
    return this.command(options, async (advance) => {
      await advance(this.current?.frame?.event === 'call' ? T.lineSep : undefined);
    });
  }

  stepOver(options: CommandOptions = {}): Promise<CommandResult> {
    return this.command(options, async (advance) => {
      const first = await advance(undefined);
      if (first.halted || first.step?.frame?.event !== 'call') return;
      const returned = await advance(T.returnSep);
      if (returned.halted) return;
      await advance(undefined);
    });
  }

  stepOut(options: CommandOptions = {}): Promise<CommandResult> {
    return this.command(options, async (advance, halt) => {
      const scope = this.log.depthAfter;
      for (let taken = 0; taken < this.maxFramesPerCommand; taken++) {
        const next = await advance(this.current?.frame?.event === 'call' ? T.returnSep : undefined);
        if (next.halted || !next.step) return;
        if (next.step.frame?.event === 'return' && next.step.depth <= scope) {
          // The frame after the scope's return is where the step out lands, the limit notwithstanding.
          await advance(undefined);
          return;
        }
      }
      halt('frame-limit');
    });
  }

  /** Drops the current step (never the first one). No model call. False when there was nothing to drop. */
  stepBack(): Promise<boolean> {
    return this.exclusive(async () => {
      this.requireStarted();
      if (this.log.steps.length <= 1) return false;
      await this.keepSteps(this.log.steps.length - 1);
      return true;
    });
  }

  /** Makes step `index` the current one by dropping every later step. No model call. */
  goTo(index: number): Promise<PredictedStep> {
    return this.exclusive(async () => {
      this.requireStarted();
      const count = this.log.steps.length;
      if (!Number.isInteger(index) || index < 0 || index >= count) {
        throw new PredictorError('bad-step', `there is no step ${index} to go to (steps 0 to ${count - 1})`);
      }
      if (index < count - 1) await this.keepSteps(index + 1);
      return this.log.steps[index].view;
    });
  }

  /**
   * Predicts again from the start: every step after the prompt (and the teacher-forced entry frame) is
   * dropped and one frame is predicted. `seed` replaces the sampling seed; without it an existing seed
   * moves on by one, so that a sampled resample differs.
   */
  resample(seed?: number, options: CommandOptions = {}): Promise<CommandResult> {
    return this.command(options, async (advance) => {
      const current = this.samplingOptions.seed;
      const next = seed ?? (current === undefined ? undefined : (current + 1) >>> 0);
      this.samplingOptions = { ...this.samplingOptions, seed: next };
      await this.keepSteps(this.baseSteps);
      await advance(undefined);
    });
  }

  /**
   * The counterfactual: the current call or line frame with `locals` in place of the model's, every
   * value written out. Makes no model call; the next command predicts from the edited state.
   */
  editLocals(locals: Locals): Promise<PredictedStep> {
    return this.exclusive(async () => {
      this.requireStarted();
      const current = this.log.last?.view;
      const frame = current?.frame;
      if (!current || !frame || !('locals' in frame)) {
        throw new PredictorError('not-editable', current ? `step ${current.index} has no locals to edit (${frame ? frame.event + ' frame' : 'no frame was read'})` : 'there is no frame to edit yet');
      }
      checkLocals(locals);
      const edited: TraceFrame = { event: frame.event, locals: [...locals], source: frame.source };
      const tokens = encodeFrameTokens(this.tokenizer, edited).tokens;
      const before = this.log.state();
      try {
        await this.keepSteps(current.index);
        await this.sequence.append(tokens);
        return this.log.add({ tokens, start: current.tokenStart, origin: 'edited', forced: true }).view;
      } catch (error) {
        await this.restore(before);
        throw error;
      }
    });
  }

  /**
   * Teacher-forced scoring of real frames after the prompt, in one `score` call on a fork (this
   * sequence is left as it is). A teacher-forced entry frame counts as given: it is scored, but the
   * prediction never had to guess it.
   */
  scoreTrace(actual: readonly TraceFrame[], options: ScoreOptions = {}): Promise<TraceScore> {
    return this.exclusive(async () => {
      this.requireStarted();
      throwIfAborted(options.signal);
      const fork = await this.sequence.fork();
      try {
        await fork.truncate(this.promptLength);
        return await scoreFrames(fork, this.tokenizer, actual, {
          complete: options.complete,
          givenFrames: this.baseSteps,
          contextLength: this.info.contextLength,
          eosTokenIds: this.info.eosTokenIds,
          signal: options.signal,
        });
      } finally {
        fork.dispose();
      }
    });
  }

  /** Frees the sequence. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.sequence.dispose();
  }

  // ---- machinery ----

  private command(
    options: CommandOptions,
    body: (advance: (forced: SpecialToken | undefined) => Promise<Advance>, halt: (reason: HaltReason) => void) => Promise<void>,
  ): Promise<CommandResult> {
    return this.exclusive(async () => {
      this.requireStarted();
      const added: PredictedStep[] = [];
      let halted: HaltReason | undefined;
      const advance = async (forced: SpecialToken | undefined): Promise<Advance> => {
        const next = await this.advance(forced, options.signal);
        if (next.step) added.push(next.step);
        halted = next.halted;
        return next;
      };
      await body(advance, (reason) => (halted = reason));
      const result: { -readonly [K in keyof CommandResult]: CommandResult[K] } = { added, ended: this.ended };
      if (this.current) result.current = this.current;
      if (halted) result.halted = halted;
      return result;
    });
  }

  /**
   * Predicts one frame: continues a truncated last step, or starts a new one with `forced` as its event
   * token (ignored when continuing). Rolls the frame back if the model call fails.
   */
  private async advance(forced: SpecialToken | undefined, signal: AbortSignal | undefined): Promise<Advance> {
    if (this.log.end) return { halted: 'ended' };
    const last = this.log.last;
    if (last?.view.truncated === 'context' || this.sequence.length >= this.info.contextLength) return { halted: 'context' };
    throwIfAborted(signal);

    const before = this.log.state();
    const continuing = last?.view.truncated === 'length' ? last : undefined;
    if (continuing) this.log.keep(continuing.view.index);
    else if (!last && forced === undefined) forced = T.callSep;
    const event = continuing ? undefined : forced;
    const index = this.log.steps.length;
    const start = continuing ? continuing.view.tokenStart : this.sequence.length;
    const head = continuing ? [...continuing.tokens] : [];
    const origin: StepOrigin = continuing ? continuing.view.origin : event ? 'steered' : 'model';
    const progress = this.progressReporter(index, head);
    let step: PredictedStep;
    let halted: HaltReason | undefined;
    try {
      if (event) {
        const id = this.tokenizer.special(event);
        await this.sequence.append([id]);
        head.push(id);
        progress(id);
      }
      const seed = this.stepSeed(index);
      const result = await this.sequence.generate({
        maxTokens: this.maxTokens,
        stopTokenIds: this.stopTokenIds,
        ...(this.samplingOptions.temperature !== undefined ? { temperature: this.samplingOptions.temperature } : {}),
        ...(this.samplingOptions.topP !== undefined ? { topP: this.samplingOptions.topP } : {}),
        ...(seed !== undefined ? { seed } : {}),
        ...(signal ? { signal } : {}),
        ...this.constraintFor(head),
        onToken: progress,
      });
      const generated = result.tokens;
      const lastId = generated[generated.length - 1];
      const endToken = result.finishReason === 'stop' && lastId !== undefined && this.endIds.has(lastId) ? lastId : undefined;
      const tokens = [...head, ...(endToken === undefined ? generated : generated.slice(0, -1))];
      if (tokens.length === 0) {
        // Nothing of a frame: the end between frames, or a context already full.
        if (endToken === undefined) return { halted: 'context' };
        this.log.markEnd(start, endToken);
        return { halted: 'ended' };
      }
      const truncated = this.truncation(result.finishReason);
      step = this.log.add({
        tokens,
        start,
        origin,
        forced: event !== undefined || (continuing?.view.forced ?? false),
        ...(truncated ? { truncated } : {}),
        ...(endToken !== undefined ? { endToken } : {}),
      }).view;
      halted = endToken !== undefined ? 'ended' : step.truncated === 'length' ? 'truncated' : step.truncated ? 'context' : step.frame ? undefined : 'malformed';
    } catch (error) {
      await this.restore(before);
      throw error;
    }
    // Outside the rollback: the step is in, whatever the listener does.
    this.onStep?.(step);
    return halted ? { step, halted } : { step };
  }

  /** The frame grammar for the frame being written, told of the tokens it already has. */
  private constraintFor(head: readonly number[]): { constraint?: FrameGrammar } {
    if (!this.facts) return {};
    const grammar = grammarAfter(this.tokenizer, this.facts, this.log.steps.map((step) => step.view), this.endIds);
    for (const id of head) {
      // Tokens we did not choose under this grammar (an edited or older frame): generate freely.
      if (!grammar.allows(id)) return {};
      grammar.accept(id);
    }
    return { constraint: grammar };
  }

  private truncation(finish: 'stop' | 'length' | 'context'): { reason: 'length' | 'context'; message: string } | undefined {
    if (finish === 'length') return { reason: 'length', message: `the frame did not end within ${this.maxTokens} tokens` };
    if (finish === 'context') return { reason: 'context', message: `the model's context (${this.info.contextLength} tokens) is full` };
    return undefined;
  }

  /** Keeps the first `count` steps: the sequence is cut after them (the end goes too). */
  private async keepSteps(count: number): Promise<void> {
    const length = count > 0 ? this.log.steps[count - 1].view.tokenEnd : this.promptLength;
    const before = this.log.state();
    this.log.keep(count);
    try {
      if (this.sequence.length > length) await this.sequence.truncate(length);
    } catch (error) {
      await this.restore(before);
      throw error;
    }
  }

  /**
   * Puts the log back to `state` and the sequence to exactly the prompt and that state's tokens,
   * dropping what a failed call left in it and re-adding what was removed. If even that fails, the
   * predictor cannot know what the sequence holds and refuses further work.
   */
  private async restore(state: LogState): Promise<void> {
    this.log.restore(state);
    const expected = [...(this.promptTokens ?? []), ...this.log.tokens()];
    try {
      const actual = this.sequence.tokens();
      let common = 0;
      while (common < actual.length && common < expected.length && actual[common] === expected[common]) common++;
      if (actual.length > common) await this.sequence.truncate(common);
      if (expected.length > common) await this.sequence.append(expected.slice(common));
    } catch (error) {
      this.brokenBy = error;
    }
  }

  private progressReporter(stepIndex: number, head: readonly number[]): (id: number) => void {
    const report = this.onProgress;
    if (!report) return () => undefined;
    const stream = this.tokenizer.stream();
    let text = '';
    for (const id of head) text += piecesText(stream.push(id));
    return (id: number) => {
      if (this.endIds.has(id)) return;
      const pieces = stream.push(id);
      if (pieces.length === 0) return;
      text += piecesText(pieces);
      report({ stepIndex, pieces, text });
    };
  }

  /** Each step index gets its own seed, so a step predicted again after a step back is the same. */
  private stepSeed(stepIndex: number): number | undefined {
    const seed = this.samplingOptions.seed;
    if (seed === undefined) return undefined;
    return (seed + Math.imul(stepIndex + 1, 0x9e3779b1)) >>> 0;
  }

  private async exclusive<R>(work: () => Promise<R>): Promise<R> {
    if (this.disposed) throw new PredictorError('disposed', 'the predictor was disposed');
    if (this.brokenBy !== undefined) {
      throw new PredictorError('broken', `the model sequence could not be restored after a failure (${describe(this.brokenBy)}); start again`);
    }
    if (this.busy) throw new PredictorError('busy', 'the predictor is still working on the previous command');
    this.busy = true;
    try {
      return await work();
    } finally {
      this.busy = false;
    }
  }

  private requireStarted(): void {
    if (!this.promptTokens) throw new PredictorError('not-started', 'start() the predictor with a program first');
  }
}

/** Locals CWM's format can carry as a frame we write: unique names, full values. */
function checkLocals(locals: Locals): void {
  const seen = new Set<string>();
  for (const [name, repr] of locals) {
    if (typeof name !== 'string' || typeof repr !== 'string') throw new PredictorError('bad-locals', 'locals are [name, repr] pairs of strings');
    if (seen.has(name)) throw new PredictorError('bad-locals', `"${name}" appears twice in the locals`);
    if (repr === UNCHANGED) throw new PredictorError('bad-locals', `"${name}" is ".." (the trace's "unchanged" mark): write its full value`);
    seen.add(name);
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ModelError('cancelled', 'cancelled');
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, not ${value}`);
  return value;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Why predictToEnd stopped. */
export type PredictionEnd = 'ended' | 'context' | 'truncated' | 'max-steps';

/**
 * Free frames until the model ends the trace, its context is full, a frame runs over its token
 * budget, or the trace holds `maxSteps` steps. Unlike run(), a malformed frame does not stop it: a
 * reader of the whole prediction wants to see what follows.
 */
export async function predictToEnd(
  predictor: Predictor,
  options: { readonly maxSteps: number; readonly signal?: AbortSignal; readonly onStep?: (steps: number) => void },
): Promise<PredictionEnd> {
  while (predictor.steps.length < options.maxSteps) {
    const result = await predictor.stepFrame(options.signal ? { signal: options.signal } : {});
    options.onStep?.(predictor.steps.length);
    if (result.ended) return 'ended';
    if (result.halted === 'context' || result.halted === 'truncated') return result.halted;
  }
  return 'max-steps';
}
