/** `neural-debug trace`: the real execution of a program, printed as CWM text or JSON lines. */
import { encodeFrame, displayFrameText } from '../trace/encoder';
import { localsToObject, RecordedFrame, TraceFrame } from '../trace/frame';
import { PromptProgram, promptText, toFileLine } from '../trace/prompt';
import { SPECIAL_TOKENS } from '../trace/tokens';
import { LIMIT_REASONS, ProgramOutput, startTrace, TraceEnd, TraceScope } from '../runtime/tracer';
import { choiceOption, intOption, numberOption, OptionSpec, parseArgs, UsageError } from './args';
import { readProgram } from './program-file';

export const TRACE_USAGE = `usage: neural-debug trace FILE [options]

Runs FILE under the real tracer and prints what happened, in CWM's trace format.

  --entry NAME       function to trace (default: the one marked "# << START_OF_TRACE",
                     or the whole script when it defines no function)
  --args TEXT        Python argument text for the entry, e.g. "[1, 2], 3"
  --format FORMAT    cwm  (default) one frame a line, the source line's newline shown as ⏎
                     raw  the exact continuation text the model reads and writes
                     json one JSON object a line: frames, program output, the end
  --prompt           print the prompt before the trace (cwm and raw formats)
  --max-steps N      stop after N frames (default 10000)
  --timeout SECONDS  wall-clock limit (default 30)
  --max-repr N       longest repr kept per value (default 1000)
  --max-output N     most bytes of program output (default 1048576)
  --max-depth N      deepest nesting of traced calls (default 500)
  --scope SCOPE      program (default) | user | all: which functions to step into
  --python PATH      interpreter, Python 3.8 or newer (default: python3 on PATH)
  --quiet            do not copy the program's output to stderr

Exit status: 0 the trace is complete (the entry returned or raised), 3 a limit stopped it (the
partial trace is printed), 1 the program could not be traced, 2 a usage error, 130 interrupted.`;

const OPTIONS: OptionSpec[] = [
  ...['entry', 'args', 'format', 'max-steps', 'timeout', 'max-repr', 'max-output', 'max-depth', 'scope', 'python'].map((name) => ({ name, value: true })),
  { name: 'prompt', value: false },
  { name: 'quiet', value: false },
];

type Format = 'cwm' | 'raw' | 'json';

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export async function traceCommand(argv: readonly string[], io: Io, onStop: (stop: () => void) => void): Promise<number> {
  const args = parseArgs(argv, OPTIONS);
  if (args.positional.length !== 1) throw new UsageError(args.positional.length === 0 ? 'trace needs a FILE' : `trace takes one FILE, not ${args.positional.length}`);
  const file = args.positional[0];
  const format = choiceOption<Format>(args, 'format', ['cwm', 'raw', 'json'], 'cwm');
  const scope = choiceOption<TraceScope>(args, 'scope', ['program', 'user', 'all'], 'program');
  const limits = {
    maxSteps: intOption(args, 'max-steps', 1),
    timeoutSeconds: numberOption(args, 'timeout', 0.1),
    maxReprLength: intOption(args, 'max-repr', 16),
    maxOutputBytes: intOption(args, 'max-output', 1),
    maxDepth: intOption(args, 'max-depth', 1),
  };

  const program = readProgram(file, args.options.get('entry'), args.options.get('args'), io);
  if (!program) return 1;

  if (args.flags.has('prompt') && format !== 'json') {
    const prompt = promptText(program.source);
    io.out(format === 'raw' ? prompt : displayFrameText(prompt) + '\n');
  }
  const printer = new FramePrinter(format, program, io);
  const quiet = args.flags.has('quiet');
  const run = startTrace(
    { programPath: file, program, python: args.options.get('python'), limits: definedOnly(limits), scope },
    {
      frame: (frame, index) => printer.frame(frame, index),
      output: (item) => {
        if (format === 'json') printer.output(item);
        if (!quiet) io.err(item.text);
      },
    },
  );
  onStop(run.stop);
  const result = await run.done;
  printer.end(result.end, result.frames.length);

  const summary = `${result.frames.length} frame${result.frames.length === 1 ? '' : 's'}; ${result.end.message}` + (result.pythonVersion ? ` (Python ${result.pythonVersion})` : '');
  if (result.end.reason === 'returned') {
    if (!quiet) io.err(`neural-debug: ${summary}\n`);
    return 0;
  }
  io.err(`neural-debug: ${summary}\n`);
  if (result.end.traceback && result.end.reason !== 'raised') io.err(result.end.traceback);
  if (result.end.reason === 'raised') return 0;
  if (result.end.reason === 'stopped') return 130;
  return LIMIT_REASONS.has(result.end.reason) ? 3 : 1;
}

class FramePrinter {
  private previous: TraceFrame | undefined;

  constructor(private readonly format: Format, private readonly program: PromptProgram, private readonly io: Io) {}

  frame(frame: RecordedFrame, index: number): void {
    if (this.format === 'json') {
      this.io.out(JSON.stringify(frameRecord(frame, index, this.program)) + '\n');
      return;
    }
    const text = encodeFrame(frame, this.previous);
    this.previous = frame;
    this.io.out(this.format === 'raw' ? text : displayFrameText(text) + '\n');
  }

  output(item: ProgramOutput): void {
    this.io.out(JSON.stringify({ type: 'output', step: item.step, stream: item.stream, text: item.text }) + '\n');
  }

  end(end: TraceEnd, steps: number): void {
    const complete = end.reason === 'returned' || end.reason === 'raised';
    if (this.format === 'json') {
      this.io.out(JSON.stringify({ type: 'end', reason: end.reason, message: end.message, steps, complete, ...(end.traceback ? { traceback: end.traceback } : {}) }) + '\n');
    } else if (complete) {
      this.io.out(SPECIAL_TOKENS.endOfText + (this.format === 'raw' ? '' : '\n'));
    }
  }
}

function frameRecord(frame: RecordedFrame, step: number, program: PromptProgram): Record<string, unknown> {
  const { origin } = frame;
  return {
    type: 'frame',
    step,
    event: frame.event,
    line: origin.file === undefined ? toFileLine(program, origin.line) ?? null : origin.line,
    sourceLine: origin.line,
    ...(origin.file !== undefined ? { file: origin.file } : {}),
    function: origin.functionName,
    depth: origin.depth,
    activation: origin.activation,
    source: frame.source,
    ...('locals' in frame ? { locals: localsToObject(frame.locals) } : { value: frame.value }),
    ...(origin.exceptionType !== undefined ? { exceptionType: origin.exceptionType } : {}),
    ...(origin.unwinding ? { unwinding: true } : {}),
  };
}

function definedOnly<T extends object>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
