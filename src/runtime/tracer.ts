/**
 * Runs a program under the real tracer (cwm_tracer.py) in a child process and streams its frames.
 * The child gets a wall-clock limit enforced from here as well (code stuck in C never reaches the
 * tracer's own checks), an output cap that also counts raw descriptor writes, and is killed with its
 * whole process group on stop.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { FrameOrigin, LocalVar, RecordedFrame } from '../trace/frame';
import { PromptProgram } from '../trace/prompt';
import { BOOTSTRAP, PYTHON_TOO_OLD_EXIT, resolvePython } from './python';

export interface TraceLimits {
  /** Most frames recorded. */
  readonly maxSteps: number;
  readonly timeoutSeconds: number;
  /** Longest repr kept for one value; longer ones end in `...<+N chars>`. */
  readonly maxReprLength: number;
  /** Most bytes of program output, stdout and stderr together. */
  readonly maxOutputBytes: number;
  /** Deepest nesting of traced calls. */
  readonly maxDepth: number;
}

export const DEFAULT_LIMITS: TraceLimits = {
  maxSteps: 10_000,
  timeoutSeconds: 30,
  maxReprLength: 1000,
  maxOutputBytes: 1 << 20,
  maxDepth: 500,
};

/** program: only the traced file; user: also other files outside the stdlib and site-packages; all: everything. */
export type TraceScope = 'program' | 'user' | 'all';

export interface TraceOptions {
  /** The user's file; the tracer reports it as the code's file name and runs in its folder. */
  readonly programPath: string;
  readonly program: PromptProgram;
  readonly python?: string;
  readonly limits?: Partial<TraceLimits>;
  readonly scope?: TraceScope;
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Path of the tracer script; by default the one shipped beside this module. */
  readonly tracerScript?: string;
}

export type EndReason =
  | 'returned' // the entry function returned
  | 'raised' // an exception left the entry function
  | 'max-steps'
  | 'timeout'
  | 'max-output'
  | 'max-depth'
  | 'error' // the program could not be started: syntax error, bad arguments, no such function...
  | 'stopped' // stop() was called
  | 'crashed'; // the interpreter died without saying why (killed, out of memory...)

export const LIMIT_REASONS: ReadonlySet<EndReason> = new Set(['max-steps', 'timeout', 'max-output', 'max-depth']);

export interface TraceEnd {
  readonly reason: EndReason;
  readonly message: string;
  /** Python's traceback, when there is one. */
  readonly traceback?: string;
}

export interface ProgramOutput {
  /** Index of the frame whose line produced it; -1 before the first frame. */
  readonly step: number;
  /** `raw`: written straight to a file descriptor (C code, child processes), not through sys.stdout. */
  readonly stream: 'stdout' | 'stderr' | 'raw';
  readonly text: string;
}

export interface TraceResult {
  readonly frames: readonly RecordedFrame[];
  readonly output: readonly ProgramOutput[];
  readonly end: TraceEnd;
  /** The interpreter's version, when it got as far as saying it. */
  readonly pythonVersion?: string;
}

export interface TraceListener {
  frame?(frame: RecordedFrame, index: number): void;
  output?(output: ProgramOutput): void;
}

export function defaultTracerScript(): string {
  return path.join(__dirname, 'cwm_tracer.py');
}

export interface TraceRun {
  readonly done: Promise<TraceResult>;
  /** Kills the program and its children; `done` resolves with reason `stopped`. */
  stop(): void;
  /** The interpreter's process id (also its process group on POSIX), once started. */
  readonly pid: number | undefined;
}

type ProtocolLocals = Array<[string, string | null]>;
interface FrameMessage {
  t: 'f';
  e: RecordedFrame['event'];
  ln: number;
  src?: string;
  fn: string;
  d: number;
  a: number;
  loc?: ProtocolLocals;
  v?: string;
  x?: string;
  unw?: boolean;
  file?: string;
}
type Message =
  | { t: 'start'; python: string }
  | FrameMessage
  | { t: 'o'; n: number; s: 'out' | 'err' | 'raw'; x: string }
  | { t: 'end'; r: EndReason; m: string; tb?: string };

const EXIT_GRACE_MS = 2000;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };
const STREAMS = { out: 'stdout', err: 'stderr', raw: 'raw' } as const;

export function startTrace(options: TraceOptions, listener: TraceListener = {}): TraceRun {
  const limits: TraceLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const python = resolvePython(options.python);
  const jobDir = fs.mkdtempSync(path.join(os.tmpdir(), 'neural-debug-'));
  const jobPath = path.join(jobDir, 'job.json');
  const programPath = path.resolve(options.programPath);
  fs.writeFileSync(jobPath, JSON.stringify({
    program: programPath,
    source: options.program.source,
    call: options.program.call,
    moduleName: options.program.moduleName,
    scope: options.scope ?? 'program',
    limits,
  }));

  const sourceLines = options.program.source.split('\n');
  const frames: RecordedFrame[] = [];
  const output: ProgramOutput[] = [];
  const activations = new Map<number, Map<string, string>>();
  let end: TraceEnd | undefined;
  let forcedEnd: TraceEnd | undefined;
  let pythonVersion: string | undefined;
  let rawOutputBytes = 0;
  let stderrTail = '';
  let child: ChildProcess | undefined;
  let exitGrace: NodeJS.Timeout | undefined;

  // The whole process group goes: a program's own child processes must not outlive the run.
  const kill = (): void => {
    if (!child || child.pid === undefined) return;
    try {
      if (process.platform !== 'win32') process.kill(-child.pid, 'SIGKILL');
      else if (child.exitCode === null) child.kill('SIGKILL');
    } catch {
      // already gone
    }
  };
  const forceEnd = (reason: EndReason, message: string): void => {
    if (!end && !forcedEnd) forcedEnd = { reason, message };
    kill();
  };

  // Runs once per frame, up to hundreds of thousands of times a run: no spreads, no per-frame maps.
  const onFrame = (m: FrameMessage): void => {
    const origin: Mutable<FrameOrigin> = { line: m.ln, functionName: m.fn, depth: m.d, activation: m.a };
    if (m.file !== undefined) origin.file = m.file;
    if (m.unw) origin.unwinding = true;
    if (m.x !== undefined) origin.exceptionType = m.x;
    const source = m.src ?? sourceLines[m.ln - 1] ?? '';
    let frame: RecordedFrame;
    if (m.e === 'call' || m.e === 'line') {
      // A null repr means "as in this activation's previous frame". Names that disappear stay in
      // `known`, harmlessly: the tracer only sends null for a name its previous frame had.
      let known = activations.get(m.a);
      if (!known) activations.set(m.a, (known = new Map<string, string>()));
      const pairs = m.loc ?? [];
      const locals: LocalVar[] = new Array(pairs.length);
      for (let i = 0; i < pairs.length; i++) {
        const [name, repr] = pairs[i];
        if (repr === null) {
          locals[i] = [name, known.get(name) ?? ''];
        } else {
          known.set(name, repr);
          locals[i] = [name, repr];
        }
      }
      frame = { event: m.e, locals, source, origin };
    } else {
      if (m.e === 'return') activations.delete(m.a);
      frame = { event: m.e, source, value: m.v ?? '', origin };
    }
    frames.push(frame);
    listener.frame?.(frame, frames.length - 1);
  };
  const addOutput = (item: ProgramOutput): void => {
    output.push(item);
    listener.output?.(item);
  };
  const onMessage = (message: Message): void => {
    switch (message.t) {
      case 'start':
        pythonVersion = message.python;
        return;
      case 'f':
        return onFrame(message);
      case 'o':
        return addOutput({ step: message.n, stream: STREAMS[message.s], text: message.x });
      case 'end':
        end = { reason: message.r, message: message.m, ...(message.tb ? { traceback: message.tb } : {}) };
        // The tracer leaves through the normal exit path; a program's leftover threads must not keep it.
        exitGrace = setTimeout(kill, EXIT_GRACE_MS);
        return;
    }
  };

  const done = new Promise<TraceResult>((resolve) => {
    const finish = (fallback: TraceEnd): void => {
      clearTimeout(timer);
      clearTimeout(exitGrace);
      fs.rm(jobDir, { recursive: true, force: true }, () => undefined);
      resolve({ frames, output, end: end ?? forcedEnd ?? fallback, ...(pythonVersion ? { pythonVersion } : {}) });
    };
    const timer = setTimeout(
      () => forceEnd('timeout', `stopped at the time limit (${limits.timeoutSeconds} s)`),
      limits.timeoutSeconds * 1000 + EXIT_GRACE_MS,
    );

    try {
      child = spawn(python, ['-c', BOOTSTRAP, options.tracerScript ?? defaultTracerScript(), jobPath], {
        cwd: options.cwd ?? path.dirname(programPath),
        env: { ...process.env, ...options.env, PYTHONIOENCODING: 'utf-8', PYTHONUTF8: '1', PYTHONDONTWRITEBYTECODE: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: process.platform !== 'win32',
        windowsHide: true,
      });
    } catch (error) {
      finish({ reason: 'error', message: `cannot start Python "${python}": ${(error as Error).message}` });
      return;
    }
    const proc = child;

    const decoder = new StringDecoder('utf8');
    let pending = '';
    proc.stdout?.on('data', (chunk: Buffer) => {
      if (forcedEnd) return; // killed: whatever is still in the pipe is not part of the run
      pending += decoder.write(chunk);
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line !== '') {
          let message: Message;
          try {
            message = JSON.parse(line) as Message;
          } catch {
            forceEnd('crashed', `the tracer sent a line that is not JSON: ${line.slice(0, 200)}`);
            return;
          }
          onMessage(message);
        }
        newline = pending.indexOf('\n');
      }
    });
    const errDecoder = new StringDecoder('utf8');
    proc.stderr?.on('data', (chunk: Buffer) => {
      const text = errDecoder.write(chunk);
      stderrTail = (stderrTail + text).slice(-4000);
      rawOutputBytes += chunk.length;
      if (rawOutputBytes > limits.maxOutputBytes) {
        forceEnd('max-output', `stopped at the output limit (${limits.maxOutputBytes} bytes)`);
        return;
      }
      if (text !== '') addOutput({ step: frames.length - 1, stream: 'raw', text });
    });

    proc.on('error', (error: NodeJS.ErrnoException) => {
      const message = error.code === 'ENOENT'
        ? `Python interpreter "${python}" was not found; set neuralDebugger.pythonPath (or --python) to a Python 3.8+ interpreter`
        : `cannot run Python "${python}": ${error.message}`;
      forceEnd('error', message);
      finish({ reason: 'error', message });
    });
    proc.on('close', (code, signal) => {
      kill();
      if (end || forcedEnd) return finish({ reason: 'crashed', message: '' });
      const detail = stderrTail.trim();
      if (code === PYTHON_TOO_OLD_EXIT) return finish({ reason: 'error', message: detail || 'Python 3.8 or newer is needed' });
      finish({
        reason: 'crashed',
        message: `the Python process ended without finishing the trace (${signal ? 'signal ' + signal : 'exit code ' + code})` + (detail ? `: ${detail.slice(-1000)}` : ''),
      });
    });
  });

  return {
    done,
    stop: () => forceEnd('stopped', 'stopped by the user'),
    get pid() {
      return child?.pid;
    },
  };
}
