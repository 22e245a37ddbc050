/**
 * The two worlds of a debug session and how to move through them, with no protocol in sight (the
 * DAP session only translates; vscode-mock-debug's runtime/session split).
 *
 * Which world drives depends on the mode. In `predict` and `compare` the predicted trace drives: a step
 * is a predicted step, stepping commands are the predictor's (CWM's semantics: a forced return on step
 * over, and so on), and going back truncates the prediction. In `compare` each predicted step is matched
 * to a real frame (alignment.ts) so both are shown. In `record` the real run drives and stepping replays
 * it with the same semantics, computed on the recorded depths.
 */
import * as fs from 'node:fs';
import type { ModelBackend } from '../model/backend';
import { ModelError } from '../model/backend';
import { Predictor } from '../predictor/predictor';
import { PredictorError } from '../predictor/errors';
import type { CommandResult, HaltReason } from '../predictor/steps';
import { bindArguments, BindError } from '../runtime/bind-args';
import { EvalResult, ExpressionEvaluator } from '../runtime/expression-evaluator';
import type { Locals, RecordedFrame } from '../trace/frame';
import { buildPromptProgram, PromptError, PromptProgram, toFileLine } from '../trace/prompt';
import { Alignment } from './alignment';
import { Breakpoints, StepProbe, World, WORLD_WORDS } from './breakpoints';
import { differingNames, divergenceOf } from './divergence';
import { LaunchError, ResolvedLaunch } from './launch-args';
import { alignPoint, callStack, localsOf, PlacedStep, PredictedPlaces, valueOf } from './places';
import { RealRun, RecordedRun, startRealRun } from './real-run';

export type StopReason = 'entry' | 'step' | 'breakpoint' | 'function breakpoint' | 'exception' | 'pause' | 'goto';

export interface Stop {
  readonly reason: StopReason;
  readonly description: string;
  readonly hitBreakpointIds?: readonly number[];
}

export type OutputCategory = 'stdout' | 'stderr' | 'console' | 'important';

export interface RuntimeHost {
  output(category: OutputCategory, text: string): void;
  /** Long work: start (with a title), updates, end. `cancel` aborts it. */
  progressStart(id: string, title: string, cancellable: boolean): void;
  progressUpdate(id: string, message: string): void;
  progressEnd(id: string): void;
}

export interface RuntimeServices {
  openModel(launch: ResolvedLaunch, signal: AbortSignal): Promise<ModelBackend>;
}

/** One level of the call stack as both worlds see it, innermost first. */
export interface StackLevelView {
  readonly name: string;
  /** 1-based line in the user's file; undefined for a line of the synthesized entry wrapper. */
  readonly fileLine?: number;
  readonly predicted?: { readonly locals?: Locals; readonly returnValue?: string };
  readonly actual?: { readonly locals?: Locals; readonly returnValue?: string };
  readonly differing: ReadonlySet<string>;
}

export interface WorldsView {
  readonly step: number;
  readonly predictedLine?: number;
  readonly actualLine?: number;
  readonly predictedLocals?: Locals;
  readonly actualLocals?: Locals;
}

export interface ExceptionView {
  readonly world: World;
  readonly type: string;
  readonly value: string;
}

export interface GotoTarget {
  readonly step: number;
  readonly line: number;
  readonly label: string;
}

/** Frames a step out or a continue may predict before it gives up (a predicted loop need not end). */
const PROGRESS_ID = 'cwm-command';

export class NeuralRuntime {
  private readonly places: PredictedPlaces | undefined;
  private readonly alignment: Alignment | undefined;
  private cursor = 0;
  private outputSent = 0;
  private readonly divergences: Array<string | undefined | null> = [];
  private readonly reported = new Map<number, string>();
  private running: AbortController | undefined;
  private disposed = false;

  private constructor(
    readonly launch: ResolvedLaunch,
    readonly program: PromptProgram,
    private readonly host: RuntimeHost,
    private readonly evaluator: ExpressionEvaluator,
    private real: RecordedRun | undefined,
    private readonly model: ModelBackend | undefined,
    private readonly predictor: Predictor | undefined,
    readonly breakpoints: Breakpoints,
  ) {
    if (predictor) this.places = new PredictedPlaces(program.source);
    if (predictor && real) this.alignment = new Alignment(real.points);
  }

  /**
   * Sets up both worlds for `launch`: the real run (recorded to its end) and the model, at the same
   * time. `signal` aborts the whole launch (the user stopped the session while it loaded).
   */
  static async start(launch: ResolvedLaunch, host: RuntimeHost, services: RuntimeServices, breakpoints: Breakpoints, signal: AbortSignal): Promise<NeuralRuntime> {
    let text: string;
    try {
      text = fs.readFileSync(launch.program, 'utf8');
    } catch (error) {
      throw new LaunchError(`cannot read the program ${launch.program}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
    }
    let program: PromptProgram;
    try {
      program = buildPromptProgram(text, { ...(launch.entry ? { entry: launch.entry } : {}), ...(launch.args ? { args: launch.args } : {}) });
    } catch (error) {
      if (error instanceof PromptError) throw new LaunchError(error.message);
      throw error;
    }
    if (launch.modeNote) host.output('important', `Neural Debugger: ${launch.modeNote}.\n`);

    let realRun: RealRun | undefined;
    const stopReal = (): void => realRun?.stop();
    signal.addEventListener('abort', stopReal);
    let model: ModelBackend | undefined;
    const evaluator = new ExpressionEvaluator({ ...(launch.python ? { python: launch.python } : {}) });
    try {
      if (launch.mode !== 'predict') {
        host.progressStart('cwm-real', `Running ${program.call.function} under the tracer`, false);
        realRun = startRealRun({
          programPath: launch.program,
          program,
          limits: launch.limits,
          ...(launch.python ? { python: launch.python } : {}),
          ...(launch.cwd ? { cwd: launch.cwd } : {}),
          onFrame: (count) => {
            if (count % 500 === 0) host.progressUpdate('cwm-real', `${count} steps recorded`);
          },
        });
      }
      const predicting = launch.mode === 'record' ? undefined : NeuralRuntime.startPredictor(launch, program, host, services, signal);
      const real = realRun ? await realRun.done.finally(() => host.progressEnd('cwm-real')) : undefined;
      if (real) reportRealEnd(real, host);
      const predicted = predicting ? await predicting : undefined;
      model = predicted?.model;
      if (signal.aborted) throw new ModelError('cancelled', 'the session was stopped while it started');
      return new NeuralRuntime(launch, program, host, evaluator, real, predicted?.model, predicted?.predictor, breakpoints);
    } catch (error) {
      realRun?.stop();
      evaluator.dispose();
      await model?.close();
      throw error;
    } finally {
      signal.removeEventListener('abort', stopReal);
    }
  }

  private static async startPredictor(
    launch: ResolvedLaunch,
    program: PromptProgram,
    host: RuntimeHost,
    services: RuntimeServices,
    signal: AbortSignal,
  ): Promise<{ model: ModelBackend; predictor: Predictor }> {
    let entryLocals: Locals | undefined;
    if (program.shape === 'marked' && program.call.args !== '') {
      try {
        entryLocals = await bindArguments(program, { ...(launch.python ? { python: launch.python } : {}) });
      } catch (error) {
        if (error instanceof BindError) throw new LaunchError(`cannot bind the arguments of ${program.call.function}: ${error.message}`);
        throw error;
      }
    }
    host.progressStart('cwm-model', 'Loading the model', false);
    let model: ModelBackend;
    try {
      model = await services.openModel(launch, signal);
    } finally {
      host.progressEnd('cwm-model');
    }
    try {
      host.output('console', `Model: ${model.info.name} (${model.info.backend} on ${model.info.device}).\n`);
      if (model.info.deviceNote) host.output('important', `${model.info.deviceNote}\n`);
      const sequence = await model.createSequence();
      const predictor = new Predictor(model, sequence, {
        maxTokensPerFrame: launch.maxTokensPerFrame,
        maxFramesPerCommand: launch.maxFramesPerCommand,
        grammar: launch.grammar,
        sampling: launch.temperature > 0 ? { temperature: launch.temperature, topP: launch.topP, seed: launch.seed } : {},
      });
      await predictor.start(program, entryLocals ? { entryLocals } : {});
      return { model, predictor };
    } catch (error) {
      await model.close();
      throw error;
    }
  }

  get mode(): ResolvedLaunch['mode'] {
    return this.launch.mode;
  }

  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Where stepping is now (0-based). */
  get current(): number {
    return this.predictor ? this.predictor.currentIndex : this.cursor;
  }

  private get steps(): readonly PlacedStep[] {
    return this.places ? this.places.steps : (this.real?.steps ?? []);
  }

  private predictedAt(index: number): PlacedStep | undefined {
    return this.places?.steps[index];
  }

  private actualIndexAt(index: number): number | undefined {
    if (!this.real) return undefined;
    if (!this.alignment) return index < this.real.steps.length ? index : undefined;
    return this.alignment.at(index);
  }

  private actualAt(index: number): PlacedStep | undefined {
    const k = this.actualIndexAt(index);
    return k === undefined ? undefined : this.real?.steps[k];
  }

  // ---- commands ----

  /** The first stop: the entry's call. */
  async entry(): Promise<Stop> {
    return this.command(async () => {
      // A teacher-forced entry frame is already there; otherwise the model writes the entry's call.
      const result = this.predictor && this.predictor.steps.length === 0 ? await this.predictor.stepFrame({ signal: this.signal() }) : undefined;
      this.sync();
      if (result?.halted && result.halted !== 'ended') return this.stopAfter('entry', result.halted);
      if (this.steps.length === 0) return { reason: 'entry', description: this.real ? `the program recorded no step: ${this.real.end.message}` : 'nothing to show' };
      return { reason: 'entry', description: this.describe() };
    });
  }

  stepIn(): Promise<Stop> {
    return this.move((p, signal) => p.stepInto({ signal }), () => this.cursor + 1);
  }

  next(): Promise<Stop> {
    return this.move((p, signal) => p.stepOver({ signal }), () => this.replayFind((s, d) => s.depth <= d));
  }

  stepOut(): Promise<Stop> {
    return this.move(
      (p, signal) => p.stepOut({ signal }),
      () => {
        const here = this.steps[this.cursor];
        const scope = here?.event === 'return' ? here.depth - 1 : (here?.depth ?? 1);
        return this.replayFind((s) => s.depth < scope);
      },
    );
  }

  stepBack(): Promise<Stop> {
    return this.command(async () => {
      if (this.predictor) {
        const moved = await this.predictor.stepBack();
        this.sync();
        return { reason: 'step', description: moved ? this.describe() : `${this.describe()} (this is the first step)` };
      }
      if (this.cursor > 0) this.cursor -= 1;
      return { reason: 'step', description: this.cursor === 0 ? `${this.describe()} (this is the first step)` : this.describe() };
    });
  }

  continue(): Promise<Stop> {
    return this.command(async () => {
      const signal = this.signal();
      const limit = this.launch.maxFramesPerCommand;
      if (!this.predictor) {
        for (let i = this.cursor + 1; i < this.steps.length; i++) {
          this.cursor = i;
          this.flushOutput();
          const stop = await this.checkStep(i, true);
          if (stop) return stop;
          if (signal.aborted) return { reason: 'pause', description: this.describe() };
        }
        return { reason: 'step', description: `${this.describe()} — the end of the recording` };
      }
      this.host.progressStart(PROGRESS_ID, 'Predicting', true);
      try {
        for (let n = 0; n < limit; n++) {
          const result = await this.predictor.stepFrame({ signal });
          this.sync();
          if (n % 10 === 9) this.host.progressUpdate(PROGRESS_ID, `step ${this.current + 1}`);
          for (const step of result.added) {
            const stop = await this.checkStep(step.index, true);
            if (stop) return stop;
          }
          if (result.ended || result.halted) return this.stopAfter('step', result.halted ?? 'ended');
        }
      } finally {
        this.host.progressEnd(PROGRESS_ID);
      }
      return { reason: 'step', description: `${this.describe()} — continued ${limit} steps without reaching a breakpoint (maxFramesPerCommand)` };
    });
  }

  reverseContinue(): Promise<Stop> {
    return this.command(async () => {
      for (let i = this.current - 1; i >= 0; i--) {
        const stop = await this.checkStep(i, false, true);
        if (stop) return stop;
      }
      await this.goToIndex(0);
      return { reason: 'step', description: `${this.describe()} (this is the first step)` };
    });
  }

  goto(step: number): Promise<Stop> {
    return this.command(async () => {
      await this.goToIndex(step);
      return { reason: 'goto', description: this.describe() };
    });
  }

  /** Predicts again from the start (a new sample), or runs the program again in record mode. */
  restart(): Promise<Stop> {
    return this.command(async () => {
      this.breakpoints.resetHits();
      if (!this.predictor) {
        this.host.output('console', 'Running the program again.\n');
        const real = await startRealRun({
          programPath: this.launch.program,
          program: this.program,
          limits: this.launch.limits,
          ...(this.launch.python ? { python: this.launch.python } : {}),
          ...(this.launch.cwd ? { cwd: this.launch.cwd } : {}),
        }).done;
        this.real = real;
        this.cursor = 0;
        this.outputSent = 0;
        reportRealEnd(real, this.host);
        return { reason: 'entry', description: this.describe() };
      }
      if (!(this.predictor.sampling.temperature && this.predictor.sampling.temperature > 0)) {
        // Greedy decoding would write the same trace again.
        this.predictor.configure({ sampling: { temperature: 0.8, topP: 0.95, seed: this.launch.seed } });
        this.host.output('console', 'Resampling the prediction at temperature 0.8 (greedy decoding gives the same trace every time).\n');
      } else {
        this.host.output('console', 'Resampling the prediction with a new seed.\n');
      }
      this.reported.clear();
      const result = await this.predictor.resample(undefined, { signal: this.signal() });
      this.sync();
      if (result.halted && result.halted !== 'ended') return this.stopAfter('entry', result.halted);
      return { reason: 'entry', description: this.describe() };
    });
  }

  /** Stops the running command (pause, or a cancelled progress). */
  pause(): boolean {
    if (!this.running) return false;
    this.running.abort();
    return true;
  }

  /**
   * The counterfactual: a predicted local of the current step takes the value of `expression`
   * (evaluated on the predicted locals), and the prediction goes on from there. Returns the new repr.
   */
  async setVariable(level: number, name: string, expression: string): Promise<string> {
    if (!this.predictor) throw new LaunchError('in record mode the values are what really happened; there is no prediction to change');
    if (this.running) throw new LaunchError('wait for the running command to finish (or pause it) before changing a value');
    if (level !== 0) throw new LaunchError('only the current frame\'s predicted locals can be changed: the prediction continues from the current step');
    const step = this.predictedAt(this.current);
    const locals = localsOf(step);
    if (!step || !locals) throw new LaunchError(`step ${this.current + 1} is ${step?.event ? `a ${step.event} step` : 'not a readable frame'}; values can be changed on call and line steps`);
    const result = await this.evaluator.evaluate(expression, locals);
    if (!result.ok) throw new LaunchError(`cannot use ${JSON.stringify(expression)} as a value: ${result.error}`);
    const edited: Array<readonly [string, string]> = locals.map(([key, repr]) => [key, key === name ? result.value : repr] as const);
    if (!locals.some(([key]) => key === name)) edited.push([name, result.value]);
    try {
      await this.predictor.editLocals(edited);
    } catch (error) {
      if (error instanceof PredictorError) throw new LaunchError(error.message);
      throw error;
    }
    this.sync();
    this.host.output('console', `What if: ${name} = ${result.value} at step ${this.current + 1}; the prediction continues from this state (the real run is unchanged).\n`);
    return result.value;
  }

  // ---- what the session shows ----

  stack(): StackLevelView[] {
    const current = this.current;
    const driving = callStack(this.steps, current);
    const actualIndex = this.predictor ? this.actualIndexAt(current) : undefined;
    const actualLevels = this.predictor && this.real && actualIndex !== undefined ? callStack(this.real.steps, actualIndex) : undefined;
    return driving.map((level, i) => {
      const place = level.step;
      const fileLine = place.line === undefined ? undefined : toFileLine(this.program, place.line);
      const top = i === 0;
      const returnValue = top && (place.event === 'return' || place.event === 'exception') ? valueOf(place) : undefined;
      const side = (locals: Locals | undefined, value: string | undefined): { locals?: Locals; returnValue?: string } => ({
        ...(locals ? { locals } : {}),
        ...(value !== undefined ? { returnValue: value } : {}),
      });
      const mine = side(localsOf(level.localsStep), returnValue);
      let predicted: StackLevelView['predicted'];
      let actual: StackLevelView['actual'];
      let differing: ReadonlySet<string> = new Set();
      if (this.predictor) {
        predicted = mine;
        const other = actualLevels?.[i];
        if (other && other.step.depth === place.depth) {
          const otherValue = top && (other.step.event === 'return' || other.step.event === 'exception') ? valueOf(other.step) : undefined;
          actual = side(localsOf(other.localsStep), otherValue);
          differing = differingNames(level.localsStep, other.localsStep);
        }
      } else {
        actual = mine;
      }
      return {
        name: place.functionName ?? '<module>',
        ...(fileLine !== undefined ? { fileLine } : {}),
        ...(predicted ? { predicted } : {}),
        ...(actual ? { actual } : {}),
        differing,
      };
    });
  }

  worlds(): WorldsView {
    const current = this.current;
    const predicted = this.predictedAt(current);
    const actual = this.actualAt(current);
    const fileLine = (step: PlacedStep | undefined): number | undefined => (step?.line === undefined ? undefined : toFileLine(this.program, step.line));
    const view: { -readonly [K in keyof WorldsView]: WorldsView[K] } = { step: current };
    const predictedLine = fileLine(predicted);
    const actualLine = fileLine(actual);
    if (predictedLine !== undefined) view.predictedLine = predictedLine;
    if (actualLine !== undefined) view.actualLine = actualLine;
    const top = this.stack()[0];
    if (top?.predicted?.locals) view.predictedLocals = top.predicted.locals;
    if (top?.actual?.locals) view.actualLocals = top.actual.locals;
    return view;
  }

  /** The expression's value in each world that has the frame at `level`. */
  async evaluate(expression: string, level: number): Promise<Partial<Record<World, EvalResult>>> {
    const view = this.stack()[level];
    if (!view) return {};
    const out: Partial<Record<World, EvalResult>> = {};
    const withReturn = (locals: Locals | undefined, value: string | undefined): Locals | undefined =>
      locals || value !== undefined ? [...(locals ?? []), ...(value !== undefined ? [['__return__', value] as const] : [])] : undefined;
    const predicted = withReturn(view.predicted?.locals, view.predicted?.returnValue);
    const actual = withReturn(view.actual?.locals, view.actual?.returnValue);
    if (predicted) out.predicted = await this.evaluator.evaluate(expression, predicted);
    if (actual) out.actual = await this.evaluator.evaluate(expression, actual);
    return out;
  }

  exceptions(): ExceptionView[] {
    const current = this.current;
    const found: ExceptionView[] = [];
    const predicted = this.predictedAt(current);
    if (predicted?.event === 'exception') found.push({ world: 'predicted', type: exceptionType(valueOf(predicted) ?? ''), value: valueOf(predicted) ?? '' });
    const actualIndex = this.predictor ? this.actualIndexAt(current) : current;
    const actualException = actualIndex === undefined ? this.skippedRealException(current) : this.real?.frames[actualIndex];
    if (actualException?.event === 'exception') {
      found.push({ world: 'actual', type: actualException.origin.exceptionType ?? exceptionType(actualException.value), value: actualException.value });
    }
    return found;
  }

  gotoTargets(fileLine: number): GotoTarget[] {
    // Predicted steps exist only up to the current one; a recording can be entered anywhere.
    const last = this.predictor ? this.current : this.steps.length - 1;
    const targets: GotoTarget[] = [];
    for (let i = 0; i <= last; i++) {
      const step = this.steps[i];
      if (step.line !== undefined && toFileLine(this.program, step.line) === fileLine) {
        targets.push({ step: i, line: fileLine, label: `step ${i + 1}${step.event && step.event !== 'line' ? ` (${step.event})` : ''}` });
      }
    }
    return targets;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.running?.abort();
    this.evaluator.dispose();
    this.predictor?.dispose();
    await this.model?.close();
  }

  // ---- machinery ----

  private signal(): AbortSignal {
    return (this.running ?? new AbortController()).signal;
  }

  private async command(body: () => Promise<Stop>): Promise<Stop> {
    if (this.disposed) throw new LaunchError('the session has ended');
    if (this.running) throw new LaunchError('the previous command is still running; pause it first');
    const controller = new AbortController();
    this.running = controller;
    try {
      const stop = await body();
      this.flushOutput();
      return stop;
    } catch (error) {
      this.sync();
      if (error instanceof ModelError && error.code === 'cancelled') return { reason: 'pause', description: `${this.describe()} (paused)` };
      if (error instanceof ModelError || error instanceof PredictorError) {
        // The session stays usable: the steps so far are kept, the user can retry or step back.
        this.host.output('important', `The model failed: ${error.message}\n`);
        return { reason: 'step', description: `${this.describe()} — the model failed: ${error.message}` };
      }
      throw error;
    } finally {
      this.running = undefined;
    }
  }

  private move(predicted: (p: Predictor, signal: AbortSignal) => Promise<CommandResult>, replay: () => number): Promise<Stop> {
    return this.command(async () => {
      if (this.predictor) {
        this.host.progressStart(PROGRESS_ID, 'Predicting', true);
        let result: CommandResult;
        try {
          result = await predicted(this.predictor, this.signal());
        } finally {
          this.host.progressEnd(PROGRESS_ID);
        }
        this.sync();
        if (result.halted) return this.stopAfter('step', result.halted);
        return this.landed();
      }
      const target = Math.min(replay(), this.steps.length - 1);
      const atEnd = target <= this.cursor;
      this.cursor = Math.max(this.cursor, target);
      if (atEnd) return { reason: 'step', description: `${this.describe()} — the end of the recording` };
      return this.landed();
    });
  }

  /** Where a step landed: an exception on either side is reported as one. */
  private landed(): Stop {
    return { reason: this.exceptions().length > 0 ? 'exception' : 'step', description: this.describe() };
  }

  /** First recorded step after the cursor that `test` accepts, given the cursor step's depth. */
  private replayFind(test: (step: PlacedStep, depth: number) => boolean): number {
    const depth = this.steps[this.cursor]?.depth ?? 1;
    for (let i = this.cursor + 1; i < this.steps.length; i++) if (test(this.steps[i], depth)) return i;
    return this.steps.length - 1;
  }

  private async goToIndex(index: number): Promise<void> {
    if (this.predictor) {
      await this.predictor.goTo(index);
      this.sync();
    } else {
      if (index < 0 || index >= this.steps.length) throw new LaunchError(`there is no step ${index + 1}`);
      this.cursor = index;
    }
  }

  private stopAfter(reason: StopReason, halted: HaltReason): Stop {
    const why: Record<HaltReason, string> = {
      ended: 'the model ended the trace',
      malformed: 'the model wrote something that is not a frame',
      truncated: `a frame took more than ${this.launch.maxTokensPerFrame} tokens (maxTokensPerFrame); stepping again continues it`,
      context: "the model's context is full",
      'frame-limit': `${this.launch.maxFramesPerCommand} steps went by without leaving the scope (maxFramesPerCommand)`,
    };
    return { reason, description: `${this.describe()} — ${why[halted]}` };
  }

  /** Brings the derived state (places, alignment, divergences) up to the predictor's steps. */
  private sync(): void {
    if (!this.predictor || !this.places) return;
    const first = this.places.sync(this.predictor.steps);
    if (this.divergences.length > first) this.divergences.length = first;
    const alignment = this.alignment;
    if (alignment) {
      alignment.truncate(first);
      const steps = this.places.steps;
      while (alignment.length < steps.length) {
        const step = steps[alignment.length];
        alignment.push(alignPoint(step));
      }
      for (let i = first; i < steps.length; i++) {
        const text = this.divergenceAt(i);
        if (text !== undefined && this.reported.get(i) !== text) {
          this.reported.set(i, text);
          const line = steps[i].line === undefined ? undefined : toFileLine(this.program, steps[i].line as number);
          this.host.output('console', `≠ step ${i + 1}${line !== undefined ? `, line ${line}` : ''}: ${text}\n`);
        }
      }
    }
  }

  /** Why predicted step `index` disagrees with reality (compare mode), or undefined. */
  private divergenceAt(index: number): string | undefined {
    const known = this.divergences[index];
    if (known !== undefined) return known ?? undefined;
    const predicted = this.predictedAt(index);
    const text = predicted ? divergenceOf(predicted, this.actualAt(index)) : undefined;
    this.divergences[index] = text ?? null;
    return text;
  }

  private describe(): string {
    const current = this.current;
    const n = current + 1;
    if (!this.predictor) {
      const total = this.steps.length;
      const last = current === total - 1 && this.real ? ` — ${this.real.end.message}` : '';
      return `step ${n} of ${total} (real run)${last}`;
    }
    if (!this.alignment) return `step ${n} (predicted)${this.predictor.ended && current === this.predictor.steps.length - 1 ? ' — the model ended the trace' : ''}`;
    let first: number | undefined;
    for (let i = 0; i <= current && first === undefined; i++) if (this.divergenceAt(i) !== undefined) first = i;
    if (first === undefined) return `step ${n} — the prediction matches the real run so far`;
    const here = first === current ? '' : this.actualIndexAt(current) === undefined ? '; no real step matches this one' : '';
    return `step ${n} — prediction diverged at step ${first + 1}: ${this.divergenceAt(first)}${here}`;
  }

  private async checkStep(index: number, counting: boolean, backward = false): Promise<Stop | undefined> {
    const hit = await this.breakpoints.check(this.probe(index, backward), counting);
    if (!hit) return undefined;
    if (hit.kind === 'log') {
      for (const message of hit.messages) this.host.output('console', `${message}\n`);
      return undefined;
    }
    if (backward || index !== this.current) await this.goToIndex(index);
    if (hit.kind === 'exception') {
      return { reason: 'exception', description: `${this.describe()} — an exception in ${hit.worlds.map((w) => WORLD_WORDS[w]).join(' and ')}` };
    }
    return { reason: hit.kind, description: this.describe() + (hit.note ? ` — ${hit.note}` : ''), hitBreakpointIds: hit.ids };
  }

  private probe(index: number, backward: boolean): StepProbe {
    const step = this.steps[index];
    const predicted = this.predictedAt(index);
    const actual = this.actualAt(index);
    const worlds: World[] = [];
    const localsFor = (world: World): Locals | undefined => localsOf(world === 'predicted' ? predicted : actual);
    if (localsFor('predicted')) worlds.push('predicted');
    if (localsFor('actual')) worlds.push('actual');
    const exceptionIn: World[] = [];
    if (predicted?.event === 'exception') exceptionIn.push('predicted');
    if (actual?.event === 'exception' || (!backward && this.predictor && this.skippedRealException(index))) exceptionIn.push('actual');
    return {
      ...(step?.line !== undefined ? { fileLine: toFileLine(this.program, step.line) } : {}),
      ...(step?.event === 'call' && step.functionName ? { callOf: step.functionName } : {}),
      exceptionIn,
      worlds,
      evaluate: (expression, world) => this.evaluator.evaluate(expression, localsFor(world) ?? []),
    };
  }

  /** A real exception between the previous matched frame and this step's (the prediction went past it). */
  private skippedRealException(index: number): RecordedFrame | undefined {
    if (!this.alignment || !this.real) return undefined;
    const from = index > 0 ? this.alignment.lastMatchedAt(index - 1) : -1;
    const to = this.alignment.at(index);
    if (to === undefined) return undefined;
    for (let k = from + 1; k < to; k++) {
      const frame = this.real.frames[k];
      if (frame.event === 'exception') return frame;
    }
    return undefined;
  }

  /** Sends the real program's output up to where the real side stands now. */
  private flushOutput(): void {
    const real = this.real;
    if (!real) return;
    let frontier: number;
    if (!this.predictor) frontier = this.cursor === real.steps.length - 1 ? Infinity : this.cursor;
    else if (this.alignment) frontier = this.predictor.ended && this.current === this.predictor.steps.length - 1 ? Infinity : this.alignment.lastMatchedAt(this.current);
    else return;
    // Output is tagged with the frame whose line was running; a line frame comes before its line runs.
    while (this.outputSent < real.output.length && real.output[this.outputSent].step < frontier) {
      const item = real.output[this.outputSent++];
      this.host.output(item.stream === 'stderr' ? 'stderr' : 'stdout', item.text);
    }
  }
}

function reportRealEnd(real: RecordedRun, host: RuntimeHost): void {
  const python = real.pythonVersion ? ` (Python ${real.pythonVersion})` : '';
  host.output('console', `Real run${python}: ${real.steps.length} steps recorded; ${real.end.message}.\n`);
  if (real.end.traceback) host.output('stderr', real.end.traceback);
}

function exceptionType(repr: string): string {
  const match = /^([A-Za-z_][\w.]*)/.exec(repr.trim());
  return match ? match[1] : 'Exception';
}
