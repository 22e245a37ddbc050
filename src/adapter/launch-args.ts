/**
 * The `cwm` launch configuration: what a user writes in launch.json, checked into one resolved shape.
 * Every problem is a sentence naming the attribute, shown by the editor as the launch error.
 */
import type { ExecutionProviderChoice } from '../model/onnx/protocol';
import type { TraceLimits } from '../runtime/tracer';

/**
 * compare: the program runs under the tracer AND the model predicts it, side by side.
 * predict: the model alone; nothing of the user's code runs.
 * record: the real run alone, recorded and replayed (a time-travel debugger with no model).
 */
export type DebugMode = 'compare' | 'predict' | 'record';
export const DEBUG_MODES: readonly DebugMode[] = ['compare', 'predict', 'record'];

/** launch.json attributes (package.json declares the same for the editor's completion). */
export interface CwmLaunchArguments {
  readonly program?: unknown;
  readonly entry?: unknown;
  readonly args?: unknown;
  readonly mode?: unknown;
  readonly stopOnEntry?: unknown;
  readonly python?: unknown;
  readonly cwd?: unknown;
  readonly model?: unknown;
  readonly endpoint?: unknown;
  readonly tokenizer?: unknown;
  readonly device?: unknown;
  readonly threads?: unknown;
  readonly temperature?: unknown;
  readonly topP?: unknown;
  readonly seed?: unknown;
  readonly maxTokensPerFrame?: unknown;
  readonly maxFramesPerCommand?: unknown;
  readonly grammar?: unknown;
  readonly maxSteps?: unknown;
  readonly timeoutSeconds?: unknown;
  readonly maxOutputBytes?: unknown;
  readonly maxReprLength?: unknown;
  readonly maxDepth?: unknown;
}

export interface ResolvedLaunch {
  readonly program: string;
  readonly entry?: string;
  readonly args?: string;
  readonly mode: DebugMode;
  /** Set when the mode asked for was replaced, with the reason (an untrusted workspace). */
  readonly modeNote?: string;
  readonly stopOnEntry: boolean;
  readonly python?: string;
  readonly cwd?: string;
  readonly model?: string;
  readonly endpoint?: string;
  readonly tokenizer?: string;
  readonly device?: ExecutionProviderChoice;
  readonly threads?: number;
  readonly temperature: number;
  readonly topP: number;
  readonly seed: number;
  readonly maxTokensPerFrame: number;
  readonly maxFramesPerCommand: number;
  /** Frame-grammar decoding where the backend can constrain its output. */
  readonly grammar: boolean;
  readonly limits: Partial<TraceLimits>;
}

export class LaunchError extends Error {}

export interface ResolveContext {
  /** Whether the user's code may run; false forces predict mode. */
  readonly trusted: boolean;
  /** Defaults the host fills in (the extension's settings), overridden by the launch attributes. */
  readonly defaults?: Partial<Pick<ResolvedLaunch, 'python' | 'model' | 'endpoint' | 'tokenizer' | 'device' | 'threads' | 'maxTokensPerFrame' | 'limits'>>;
}

export function resolveLaunch(raw: CwmLaunchArguments, context: ResolveContext): ResolvedLaunch {
  const program = text(raw, 'program');
  if (!program) throw new LaunchError('the launch configuration needs "program": the Python file to debug (e.g. "${file}")');
  const requested = raw.mode === undefined ? undefined : choice(raw, 'mode', DEBUG_MODES);
  let mode: DebugMode = requested ?? (context.trusted ? 'compare' : 'predict');
  let modeNote: string | undefined;
  if (!context.trusted && mode !== 'predict') {
    if (mode === 'record') throw new LaunchError('record mode runs your program, and this workspace is untrusted: trust the workspace, or use "mode": "predict"');
    modeNote = 'this workspace is untrusted, so nothing of your code runs: the session predicts only (trust the workspace to compare with the real run)';
    mode = 'predict';
  }
  // Binding a marked entry's arguments starts an interpreter even in predict mode: untrusted, only the
  // host's choice of interpreter may be used, never one the launch (the workspace) names.
  if (!context.trusted && raw.python !== undefined) {
    throw new LaunchError('"python" chooses a program to run, and this workspace is untrusted: remove "python" from the launch configuration (the default interpreter reads the arguments), or trust the workspace');
  }
  const defaults = context.defaults ?? {};
  const limits: Partial<TraceLimits> = { ...defaults.limits };
  const limit = (key: keyof TraceLimits, min: number): void => {
    const value = number(raw, key, min);
    if (value !== undefined) (limits as Record<string, number>)[key] = value;
  };
  limit('maxSteps', 1);
  limit('timeoutSeconds', 0.1);
  limit('maxOutputBytes', 0);
  limit('maxReprLength', 10);
  limit('maxDepth', 1);
  const temperature = number(raw, 'temperature', 0) ?? 0;
  const topP = number(raw, 'topP', 0) ?? (temperature > 0 ? 0.95 : 1);
  if (topP > 1) throw new LaunchError(`"topP" must be at most 1, not ${topP}`);
  return {
    program,
    ...optional('entry', text(raw, 'entry')),
    ...optional('args', text(raw, 'args')),
    mode,
    ...optional('modeNote', modeNote),
    stopOnEntry: bool(raw, 'stopOnEntry') ?? true,
    ...optional('python', text(raw, 'python') ?? defaults.python),
    ...optional('cwd', text(raw, 'cwd')),
    // A model named in the launch wins over an endpoint from the settings (an endpoint wins over a folder).
    ...optional('model', text(raw, 'model') ?? defaults.model),
    ...optional('endpoint', text(raw, 'endpoint') ?? (text(raw, 'model') ? undefined : defaults.endpoint)),
    ...optional('tokenizer', text(raw, 'tokenizer') ?? defaults.tokenizer),
    ...optional('device', raw.device === undefined ? defaults.device : choice(raw, 'device', ['auto', 'cpu', 'cuda'] as const)),
    ...optional('threads', number(raw, 'threads', 0) ?? defaults.threads),
    temperature,
    topP,
    seed: number(raw, 'seed', 0) ?? 0,
    maxTokensPerFrame: number(raw, 'maxTokensPerFrame', 16) ?? defaults.maxTokensPerFrame ?? 2048,
    maxFramesPerCommand: number(raw, 'maxFramesPerCommand', 1) ?? 2000,
    grammar: bool(raw, 'grammar') ?? true,
    limits,
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function text(raw: CwmLaunchArguments, key: keyof CwmLaunchArguments): string | undefined {
  const value = raw[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new LaunchError(`"${key}" must be a string, not ${JSON.stringify(value)}`);
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function number(raw: CwmLaunchArguments, key: keyof CwmLaunchArguments, min: number): number | undefined {
  const value = raw[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new LaunchError(`"${key}" must be a number of at least ${min}, not ${JSON.stringify(value)}`);
  }
  return value;
}

function bool(raw: CwmLaunchArguments, key: keyof CwmLaunchArguments): boolean | undefined {
  const value = raw[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new LaunchError(`"${key}" must be true or false, not ${JSON.stringify(value)}`);
  return value;
}

function choice<T extends string>(raw: CwmLaunchArguments, key: keyof CwmLaunchArguments, options: readonly T[]): T {
  const value = raw[key];
  if (typeof value !== 'string' || !(options as readonly string[]).includes(value)) {
    throw new LaunchError(`"${key}" must be one of ${options.map((o) => `"${o}"`).join(', ')}, not ${JSON.stringify(value)}`);
  }
  return value as T;
}
