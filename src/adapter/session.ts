/**
 * The `cwm` Debug Adapter Protocol session. It only translates: requests become NeuralRuntime calls,
 * and the runtime's stops, output and progress become DAP events. It runs inline in the extension
 * (DebugAdapterInlineImplementation) and standalone (main.ts), with the host's choices — trust, the
 * model, settings — passed in as a SessionEnvironment.
 */
import * as fs from 'node:fs';
import {
  BreakpointEvent,
  Handles,
  InitializedEvent,
  InvalidatedEvent,
  LoggingDebugSession,
  OutputEvent,
  ProgressEndEvent,
  ProgressStartEvent,
  ProgressUpdateEvent,
  Scope,
  Source,
  StackFrame,
  StoppedEvent,
  TerminatedEvent,
  Thread,
  Event,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import * as path from 'node:path';
import type { ModelBackend } from '../model/backend';
import { ModelError } from '../model/backend';
import type { EvalResult } from '../runtime/expression-evaluator';
import type { Locals } from '../trace/frame';
import { namesOnLine } from '../trace/line-names';
import { parseRepr, ReprNode } from '../trace/repr-tree';
import { Breakpoints, World } from './breakpoints';
import { NeuralRuntime, OutputCategory, RuntimeHost, StackLevelView, Stop } from './debug-runtime';
import { shortRepr } from './divergence';
import { CwmLaunchArguments, LaunchError, ResolveContext, ResolvedLaunch, resolveLaunch } from './launch-args';
import { EXCEPTION_FILTERS, LineValue, SCOPE_NAMES, WORLDS_EVENT, WorldsEventBody } from './protocol-ext';

export interface SessionEnvironment {
  /** Whether the user's code may run here; asked at launch. */
  readonly trusted: () => boolean;
  /** The host's settings, which launch attributes override. */
  readonly defaults?: () => ResolveContext['defaults'];
  readonly openModel: (launch: ResolvedLaunch, signal: AbortSignal) => Promise<ModelBackend>;
}

const THREAD_ID = 1;
/** How long launch waits for configurationDone (breakpoints) from a client that never sends it. */
const CONFIGURATION_WAIT_MS = 5000;

type Container =
  | { readonly kind: 'locals'; readonly level: number; readonly world: World }
  | { readonly kind: 'return'; readonly level: number; readonly world: World }
  | { readonly kind: 'unmatched' }
  | { readonly kind: 'node'; readonly node: ReprNode & { kind: 'list' | 'tuple' | 'set' | 'dict' } };


export class NeuralDebugSession extends LoggingDebugSession {
  private runtime: NeuralRuntime | undefined;
  private readonly breakpoints = new Breakpoints();
  private readonly handles = new Handles<Container>();
  private readonly launchAbort = new AbortController();
  private configurationDone: () => void = () => undefined;
  private readonly configured = new Promise<void>((resolve) => (this.configurationDone = resolve));
  private client: DebugProtocol.InitializeRequestArguments = { adapterID: 'cwm' };
  private programLines: string[] = [];
  private ended = false;
  private launching: Promise<void> = Promise.resolve();

  constructor(private readonly environment: SessionEnvironment) {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  protected override initializeRequest(response: DebugProtocol.InitializeResponse, args: DebugProtocol.InitializeRequestArguments): void {
    this.client = args;
    response.body = {
      ...response.body,
      supportsConfigurationDoneRequest: true,
      supportsStepBack: true,
      supportsSetVariable: true,
      supportsRestartRequest: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsLogPoints: true,
      supportsFunctionBreakpoints: true,
      supportsExceptionInfoRequest: true,
      exceptionBreakpointFilters: EXCEPTION_FILTERS.map((f) => ({ ...f })),
      supportsGotoTargetsRequest: true,
      supportsEvaluateForHovers: true,
      supportsCancelRequest: true,
      supportsTerminateRequest: true,
      supportsValueFormattingOptions: false,
    };
    this.sendResponse(response);
    this.sendEvent(new InitializedEvent());
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.configurationDone();
    this.sendResponse(response);
  }

  protected override launchRequest(response: DebugProtocol.LaunchResponse, args: DebugProtocol.LaunchRequestArguments & CwmLaunchArguments): void {
    // Kept so that ending the session waits until the launch has answered (and stopped what it started).
    this.launching = this.launch(response, args);
  }

  private async launch(response: DebugProtocol.LaunchResponse, args: CwmLaunchArguments): Promise<void> {
    let launch: ResolvedLaunch;
    try {
      launch = resolveLaunch(args, { trusted: this.environment.trusted(), ...(this.environment.defaults ? { defaults: this.environment.defaults() } : {}) });
      launch = { ...launch, program: path.resolve(launch.program) };
      this.programLines = readLines(launch.program);
    } catch (error) {
      return this.fail(response, error);
    }
    await Promise.race([this.configured, delay(CONFIGURATION_WAIT_MS)]);
    for (const changed of this.breakpoints.bind(launch.program, this.programLines.length)) {
      this.sendEvent(new BreakpointEvent('changed', changed));
    }
    try {
      this.runtime = await NeuralRuntime.start(launch, this.runtimeHost(), { openModel: this.environment.openModel }, this.breakpoints, this.launchAbort.signal);
    } catch (error) {
      return this.fail(response, error);
    }
    this.sendResponse(response);
    const runtime = this.runtime;
    await this.report(async () => {
      const stop = await runtime.entry();
      return launch.stopOnEntry ? stop : runtime.continue();
    });
  }

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    const file = args.source.path ?? '';
    const states = this.breakpoints.setLineBreakpoints(file, (args.breakpoints ?? []).map((bp) => ({
      line: bp.line,
      ...(bp.condition ? { condition: bp.condition } : {}),
      ...(bp.hitCondition ? { hitCondition: bp.hitCondition } : {}),
      ...(bp.logMessage ? { logMessage: bp.logMessage } : {}),
    })));
    response.body = { breakpoints: states.map((state) => ({ ...state, source: args.source })) };
    this.sendResponse(response);
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    response.body = { breakpoints: this.breakpoints.setFunctionBreakpoints(args.breakpoints) };
    this.sendResponse(response);
  }

  protected override setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): void {
    this.breakpoints.setExceptionFilters(args.filters);
    this.sendResponse(response);
  }

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    const mode = this.runtime?.mode;
    const name = mode === 'record' ? 'Real run (recorded)' : mode === 'predict' ? 'Predicted run' : 'Predicted and real run';
    response.body = { threads: [new Thread(THREAD_ID, name)] };
    this.sendResponse(response);
  }

  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): void {
    const runtime = this.runtime;
    const levels = runtime && !runtime.busy ? runtime.stack() : [];
    const start = args.startFrame ?? 0;
    const count = args.levels && args.levels > 0 ? args.levels : levels.length;
    const frames = levels.slice(start, start + count).map((level, i) => {
      const id = start + i + 1;
      if (level.fileLine === undefined || !runtime) {
        const frame: DebugProtocol.StackFrame = new StackFrame(id, `${level.name} (entry wrapper)`);
        frame.presentationHint = 'subtle';
        return frame;
      }
      return new StackFrame(id, level.name, this.source(runtime.launch.program), this.convertDebuggerLineToClient(level.fileLine), 1);
    });
    response.body = { stackFrames: frames, totalFrames: levels.length };
    this.sendResponse(response);
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    const level = args.frameId - 1;
    const view = this.levelView(level);
    const scopes: DebugProtocol.Scope[] = [];
    const mode = this.runtime?.mode;
    if (view) {
      if (mode !== 'record') {
        scopes.push(new Scope(SCOPE_NAMES.predictedLocals, this.handles.create({ kind: 'locals', level, world: 'predicted' }), false));
        if (view.predicted?.returnValue !== undefined) scopes.push(returnScope(SCOPE_NAMES.predictedReturn, this.handles.create({ kind: 'return', level, world: 'predicted' })));
      }
      if (mode !== 'predict') {
        const actual = view.actual ? this.handles.create({ kind: 'locals', level, world: 'actual' }) : this.handles.create({ kind: 'unmatched' });
        scopes.push(new Scope(SCOPE_NAMES.actualLocals, actual, false));
        if (view.actual?.returnValue !== undefined) scopes.push(returnScope(SCOPE_NAMES.actualReturn, this.handles.create({ kind: 'return', level, world: 'actual' })));
      }
    }
    response.body = { scopes };
    this.sendResponse(response);
  }

  protected override variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): void {
    const container = this.handles.get(args.variablesReference);
    let variables: DebugProtocol.Variable[] = [];
    if (container?.kind === 'unmatched') {
      variables = [{ name: '(no real step)', value: 'the real run has no step that matches this predicted one', variablesReference: 0 }];
    } else if (container?.kind === 'locals' || container?.kind === 'return') {
      const view = this.levelView(container.level);
      const mine = container.world === 'predicted' ? view?.predicted : view?.actual;
      const other = container.world === 'predicted' ? view?.actual : view?.predicted;
      const otherWord = container.world === 'predicted' ? 'actual' : 'predicted';
      if (container.kind === 'locals') {
        const otherLocals = new Map(other?.locals ?? []);
        variables = (mine?.locals ?? []).map(([name, repr]) => {
          const differs = view?.differing.has(name) ?? false;
          const otherRepr = otherLocals.get(name);
          const note = differs ? (otherRepr === undefined ? `  ≠ no ${name} in the ${otherWord} frame` : `  ≠ ${otherWord} ${shortRepr(otherRepr)}`) : '';
          return this.variable(name, repr, note, name);
        });
      } else if (mine?.returnValue !== undefined) {
        const otherValue = other?.returnValue;
        const note = otherValue !== undefined && otherValue !== mine.returnValue ? `  ≠ ${otherWord} ${shortRepr(otherValue)}` : '';
        variables = [this.variable('(return value)', mine.returnValue, note)];
      }
    } else if (container?.kind === 'node') {
      const list = container.node.children;
      const start = args.start ?? 0;
      const count = args.count && args.count > 0 ? args.count : list.length;
      variables = list.slice(start, start + count).map((child) => this.variable(container.node.kind === 'dict' ? child.key : `[${child.key}]`, child.node.text, ''));
    }
    response.body = { variables };
    this.sendResponse(response);
  }

  protected override async setVariableRequest(response: DebugProtocol.SetVariableResponse, args: DebugProtocol.SetVariableArguments): Promise<void> {
    const container = this.handles.get(args.variablesReference);
    const runtime = this.runtime;
    if (!runtime || container?.kind !== 'locals' || container.world !== 'predicted') {
      return this.fail(response, new LaunchError('only predicted locals can be changed: the real run is what happened (a what-if lives on the predicted side)'));
    }
    try {
      const value = await runtime.setVariable(container.level, args.name, args.value);
      response.body = { value };
      this.sendResponse(response);
    } catch (error) {
      return this.fail(response, error);
    }
    if (this.client.supportsInvalidatedEvent) this.sendEvent(new InvalidatedEvent(['variables', 'stacks']));
    this.sendWorlds();
  }

  protected override async evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): Promise<void> {
    const runtime = this.runtime;
    if (!runtime || runtime.busy) return this.fail(response, new LaunchError('expressions can be evaluated while the session is stopped'));
    const results = await runtime.evaluate(args.expression, (args.frameId ?? 1) - 1);
    const entries = Object.entries(results) as Array<[World, EvalResult]>;
    if (entries.length === 0) return this.fail(response, new LaunchError('this frame has no locals to evaluate in'));
    const ok = entries.filter((entry): entry is [World, EvalResult & { ok: true }] => entry[1].ok);
    if (ok.length === 0) return this.fail(response, new LaunchError((entries[0][1] as { error: string }).error));
    let result: string;
    if (entries.length === 1 || (ok.length === 2 && ok[0][1].value === ok[1][1].value)) result = ok[0][1].value;
    else result = entries.map(([world, r]) => `${r.ok ? r.value : `<${r.error}>`} (${world})`).join('  ≠  ');
    const node = entries.length === 1 ? parseRepr(result) : undefined;
    response.body = { result, variablesReference: node && node.kind !== 'atom' && node.children.length > 0 ? this.handles.create({ kind: 'node', node }) : 0 };
    this.sendResponse(response);
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    const found = this.runtime?.exceptions() ?? [];
    if (found.length === 0) return this.fail(response, new LaunchError('no exception at this step'));
    const words: Record<World, string> = { predicted: 'predicted', actual: 'real run' };
    response.body = {
      exceptionId: found[0].type,
      description: found.map((e) => `${words[e.world]}: ${e.value}`).join('\n'),
      breakMode: 'always',
      details: { typeName: found[0].type, message: found[0].value },
    };
    this.sendResponse(response);
  }

  protected override gotoTargetsRequest(response: DebugProtocol.GotoTargetsResponse, args: DebugProtocol.GotoTargetsArguments): void {
    const line = this.convertClientLineToDebugger(args.line);
    const targets = this.runtime?.gotoTargets(line) ?? [];
    response.body = { targets: targets.map((t) => ({ id: t.step + 1, label: t.label, line: this.convertDebuggerLineToClient(t.line) })) };
    this.sendResponse(response);
  }

  protected override gotoRequest(response: DebugProtocol.GotoResponse, args: DebugProtocol.GotoArguments): void {
    this.command(response, (runtime) => runtime.goto(args.targetId - 1));
  }

  protected override nextRequest(response: DebugProtocol.NextResponse): void {
    this.command(response, (runtime) => runtime.next());
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse): void {
    this.command(response, (runtime) => runtime.stepIn());
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse): void {
    this.command(response, (runtime) => runtime.stepOut());
  }

  protected override stepBackRequest(response: DebugProtocol.StepBackResponse): void {
    this.command(response, (runtime) => runtime.stepBack());
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    response.body = { allThreadsContinued: true };
    this.command(response, (runtime) => runtime.continue());
  }

  protected override reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): void {
    this.command(response, (runtime) => runtime.reverseContinue());
  }

  protected override restartRequest(response: DebugProtocol.RestartResponse): void {
    this.command(response, (runtime) => runtime.restart());
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    this.runtime?.pause();
    this.sendResponse(response);
  }

  protected override cancelRequest(response: DebugProtocol.CancelResponse, args: DebugProtocol.CancelArguments): void {
    if (args.progressId !== undefined || args.requestId !== undefined) this.runtime?.pause();
    this.sendResponse(response);
  }

  protected override async terminateRequest(response: DebugProtocol.TerminateResponse): Promise<void> {
    await this.endSession();
    this.sendResponse(response);
    this.sendEvent(new TerminatedEvent());
  }

  protected override async disconnectRequest(response: DebugProtocol.DisconnectResponse): Promise<void> {
    await this.endSession();
    this.sendResponse(response);
    // Standalone, the adapter process ends here; inline, the library leaves the extension host alone.
    this.shutdown();
  }

  // ---- helpers ----

  /** Ends everything the session started: the launch in progress, the program, the model's worker. */
  private async endSession(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.launchAbort.abort();
    await this.launching;
    await this.runtime?.dispose();
  }

  private command(response: DebugProtocol.Response, body: (runtime: NeuralRuntime) => Promise<Stop>): void {
    const runtime = this.runtime;
    if (!runtime) return this.fail(response, new LaunchError('the session has not started yet'));
    if (runtime.busy) return this.fail(response, new LaunchError('the previous command is still running; pause it first'));
    this.sendResponse(response);
    void this.report(() => body(runtime));
  }

  /** Runs a command and reports where it stopped; a failure becomes a message, never a dead session. */
  private async report(body: () => Promise<Stop>): Promise<void> {
    let stop: Stop;
    try {
      stop = await body();
    } catch (error) {
      if (this.ended) return;
      this.sendEvent(new OutputEvent(`${messageOf(error)}\n`, 'important'));
      stop = { reason: 'step', description: messageOf(error) };
    }
    if (this.ended) return;
    this.handles.reset();
    const event: DebugProtocol.StoppedEvent = new StoppedEvent(stop.reason, THREAD_ID);
    event.body.description = stop.description;
    event.body.allThreadsStopped = true;
    if (stop.hitBreakpointIds) event.body.hitBreakpointIds = [...stop.hitBreakpointIds];
    this.sendEvent(event);
    this.sendWorlds();
  }

  private sendWorlds(): void {
    const runtime = this.runtime;
    if (!runtime) return;
    const view = runtime.worlds();
    const program = runtime.launch.program;
    const values: LineValue[] = [];
    const valuesOn = (line: number | undefined, predicted: Locals | undefined, actual: Locals | undefined): void => {
      if (line === undefined) return;
      const p = new Map(predicted ?? []);
      const a = new Map(actual ?? []);
      const seen = new Set<string>();
      for (const token of namesOnLine(this.programLines[line - 1] ?? '')) {
        if (seen.has(token.name) || (!p.has(token.name) && !a.has(token.name))) continue;
        seen.add(token.name);
        const predictedValue = p.get(token.name);
        const actualValue = a.get(token.name);
        values.push({
          name: token.name,
          line,
          start: token.start,
          end: token.end,
          ...(predictedValue !== undefined ? { predicted: predictedValue } : {}),
          ...(actualValue !== undefined ? { actual: actualValue } : {}),
        });
      }
    };
    valuesOn(view.predictedLine ?? view.actualLine, view.predictedLocals, view.actualLocals);
    if (view.actualLine !== undefined && view.predictedLine !== undefined && view.actualLine !== view.predictedLine) valuesOn(view.actualLine, undefined, view.actualLocals);
    const body: WorldsEventBody = {
      step: view.step + 1,
      mode: runtime.mode,
      ...(view.predictedLine !== undefined ? { predicted: { path: program, line: view.predictedLine } } : {}),
      ...(view.actualLine !== undefined ? { actual: { path: program, line: view.actualLine } } : {}),
      values,
    };
    this.sendEvent(new Event(WORLDS_EVENT, body));
  }

  private runtimeHost(): RuntimeHost {
    const progress = this.client.supportsProgressReporting === true;
    return {
      output: (category: OutputCategory, text: string) => this.sendEvent(new OutputEvent(text, category)),
      progressStart: (id, title, cancellable) => {
        if (!progress) return;
        const event: DebugProtocol.ProgressStartEvent = new ProgressStartEvent(id, title);
        event.body.cancellable = cancellable;
        this.sendEvent(event);
      },
      progressUpdate: (id, message) => {
        if (progress) this.sendEvent(new ProgressUpdateEvent(id, message));
      },
      progressEnd: (id) => {
        if (progress) this.sendEvent(new ProgressEndEvent(id));
      },
    };
  }

  private levelView(level: number): StackLevelView | undefined {
    const runtime = this.runtime;
    return runtime && !runtime.busy ? runtime.stack()[level] : undefined;
  }

  private variable(name: string, repr: string, note: string, evaluateName?: string): DebugProtocol.Variable {
    const node = parseRepr(repr);
    const expandable = node.kind !== 'atom' && node.children.length > 0;
    const variable: DebugProtocol.Variable = {
      // The name stays the variable's own: editors send it back in setVariable and evaluateName.
      name,
      // No ANSI colour: VS Code copies values into its inline values, where escape codes show raw.
      value: `${repr}${note}`,
      variablesReference: expandable ? this.handles.create({ kind: 'node', node }) : 0,
    };
    if (evaluateName) variable.evaluateName = evaluateName;
    if (expandable) {
      if (node.kind === 'dict') variable.namedVariables = node.children.length;
      else variable.indexedVariables = node.children.length;
    }
    return variable;
  }

  private source(file: string): Source {
    return new Source(path.basename(file), this.convertDebuggerPathToClient(file));
  }

  private fail(response: DebugProtocol.Response, error: unknown): void {
    this.sendErrorResponse(response, { id: 1001, format: messageOf(error).replace(/[{}]/g, (c) => (c === '{' ? '(' : ')')), showUser: true });
  }
}

function returnScope(name: string, reference: number): DebugProtocol.Scope {
  const scope: DebugProtocol.Scope = new Scope(name, reference, false);
  scope.presentationHint = 'returnValue';
  return scope;
}

function messageOf(error: unknown): string {
  if (error instanceof LaunchError || error instanceof ModelError) return error.message;
  return error instanceof Error ? `internal error: ${error.message}` : String(error);
}

function readLines(file: string): string[] {
  try {
    return fs.readFileSync(file, 'utf8').replace(/\r\n?/g, '\n').split('\n');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new LaunchError(`cannot read the program ${file}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
