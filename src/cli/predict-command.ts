/** `neural-debug predict`: the execution CWM predicts for a program, printed as the model writes it. */
import { ModelBackend, ModelError } from '../model/backend';
import type { DecodedPiece } from '../model/tokenizer';
import { displayPieces, PredictedStep, predictToEnd, Predictor } from '../predictor';
import { Locals, localsToObject } from '../trace/frame';
import { bindArguments, BindError } from '../runtime/bind-args';
import { PromptProgram, promptText, toFileLine } from '../trace/prompt';
import { displayFrameText } from '../trace/encoder';
import { SourceLocator, TraceLineMapper } from '../trace/source-map';
import { SPECIAL_TOKENS } from '../trace/tokens';
import { intOption, numberOption, OptionSpec, parseArgs, choiceOption, UsageError } from './args';
import { MODEL_OPTIONS, MODEL_USAGE, openModelOrReport } from './model-options';
import { readProgram } from './program-file';
import type { Io } from './trace-command';

export const PREDICT_USAGE = `usage: neural-debug predict FILE [options]

Prints the execution the model predicts for FILE, frame by frame as it is generated, in CWM's trace
format. Nothing of FILE is executed.

  --entry NAME       function to trace (default: the one marked "# << START_OF_TRACE",
                     or the whole script when it defines no function)
  --args TEXT        Python argument text for the entry, e.g. "[1, 2], 3"
  --format FORMAT    cwm  (default) one frame a line, the source line's newline shown as ⏎
                     json one JSON object a line per predicted step, then the end
  --prompt           print the prompt before the trace (cwm format)
  --max-steps N      stop after N predicted frames (default 1000)
  --max-frame-tokens N  most tokens one frame may take (default 2048)
  --temperature T    0 (default) decodes greedily; above 0 samples
  --top-p P          nucleus sampling mass (default 0.95 when sampling)
  --seed N           seed for sampling, to replay a run
  --no-grammar       let the model write anything (by default a model folder's output is held to
                     the frame grammar: every frame well-formed, lines and names from FILE)
  --python PATH      interpreter that binds --args to a marked entry's parameters by parsing
                     literals only (default: python3 on PATH); none of FILE runs
${MODEL_USAGE}

Exit status: 0 the model ended the trace, 3 a limit stopped it first (the partial trace is printed),
1 the model could not be used, 2 a usage error, 130 interrupted.`;

const OPTIONS: OptionSpec[] = [
  ...['entry', 'args', 'format', 'max-steps', 'max-frame-tokens', 'temperature', 'top-p', 'seed', 'python'].map((name) => ({ name, value: true })),
  ...MODEL_OPTIONS,
  { name: 'prompt', value: false },
  { name: 'no-grammar', value: false },
];

type Format = 'cwm' | 'json';

export async function predictCommand(argv: readonly string[], io: Io, onStop: (stop: () => void) => void): Promise<number> {
  const args = parseArgs(argv, OPTIONS);
  if (args.positional.length !== 1) throw new UsageError(args.positional.length === 0 ? 'predict needs a FILE' : `predict takes one FILE, not ${args.positional.length}`);
  const file = args.positional[0];
  const format = choiceOption<Format>(args, 'format', ['cwm', 'json'], 'cwm');
  const maxSteps = intOption(args, 'max-steps', 1) ?? 1000;
  const maxTokensPerFrame = intOption(args, 'max-frame-tokens', 1) ?? 2048;
  const temperature = numberOption(args, 'temperature', 0) ?? 0;
  const topP = numberOption(args, 'top-p', 0) ?? (temperature > 0 ? 0.95 : 1);
  if (topP > 1) throw new UsageError(`--top-p must be at most 1, not ${topP}`);
  const seed = intOption(args, 'seed', 0);

  const program = readProgram(file, args.options.get('entry'), args.options.get('args'), io);
  if (!program) return 1;
  // A marked entry gets its call frame teacher-forced with the arguments, or the model invents them.
  let entryLocals: Locals | undefined;
  if (program.shape === 'marked' && program.call.args !== '') {
    try {
      entryLocals = await bindArguments(program, { python: args.options.get('python') });
    } catch (error) {
      if (!(error instanceof BindError)) throw error;
      io.err(`neural-debug: ${file}: ${error.message}\n`);
      return 1;
    }
  }

  const controller = new AbortController();
  onStop(() => controller.abort());
  const model = await openModelOrReport(args, io);
  if (!model) return 1;
  try {
    io.err(`neural-debug: model ${model.info.name} on ${model.info.device}\n`);
    if (model.info.deviceNote) io.err(`neural-debug: ${model.info.deviceNote}\n`);
    if (args.flags.has('prompt') && format === 'cwm') io.out(displayFrameText(promptText(program.source)) + '\n');
    return await predictSteps(model, program, entryLocals, { format, maxSteps, maxTokensPerFrame, grammar: !args.flags.has('no-grammar'), sampling: { temperature, topP, ...(seed !== undefined ? { seed } : {}) }, signal: controller.signal }, io);
  } finally {
    await model.close();
  }
}

interface PredictRun {
  readonly format: Format;
  readonly maxSteps: number;
  readonly maxTokensPerFrame: number;
  readonly grammar: boolean;
  readonly sampling: { readonly temperature: number; readonly topP: number; readonly seed?: number };
  readonly signal: AbortSignal;
}

async function predictSteps(model: ModelBackend, program: PromptProgram, entryLocals: Locals | undefined, run: PredictRun, io: Io): Promise<number> {
  const sequence = await model.createSequence();
  const printer = new StepPrinter(run.format, program, io);
  const predictor = new Predictor(model, sequence, {
    maxTokensPerFrame: run.maxTokensPerFrame,
    grammar: run.grammar,
    sampling: run.sampling,
    onProgress: (progress) => printer.progress(progress.pieces),
    onStep: (step) => printer.step(step),
  });
  try {
    await predictor.start(program, entryLocals ? { entryLocals } : {});
    const end = await predictToEnd(predictor, { maxSteps: run.maxSteps, signal: run.signal });
    const steps = predictor.steps.length;
    printer.end(end, steps);
    if (end === 'ended') {
      io.err(`neural-debug: ${steps} predicted frame${steps === 1 ? '' : 's'}; the model ended the trace\n`);
      return 0;
    }
    const why = {
      context: `: the model's context (${model.info.contextLength} tokens) is full`,
      truncated: `: a frame took more than ${run.maxTokensPerFrame} tokens (--max-frame-tokens)`,
      'max-steps': ' (--max-steps)',
    }[end];
    io.err(`neural-debug: stopped after ${steps} predicted frames${why}\n`);
    return 3;
  } catch (error) {
    if (error instanceof ModelError && error.code === 'cancelled') {
      printer.end('interrupted', predictor.steps.length);
      return 130;
    }
    if (error instanceof ModelError) {
      printer.end('error', predictor.steps.length);
      io.err(`neural-debug: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    sequence.dispose();
  }
}

/** Prints steps: cwm text as it streams, or one JSON object per finished step. */
class StepPrinter {
  private lineOpen = false;
  private readonly lines: TraceLineMapper;

  constructor(
    private readonly format: Format,
    private readonly program: PromptProgram,
    private readonly io: Io,
  ) {
    this.lines = new TraceLineMapper(new SourceLocator(program.source));
  }

  progress(pieces: readonly DecodedPiece[]): void {
    if (this.format !== 'cwm') return;
    const text = displayPieces(pieces);
    if (text === '') return;
    this.io.out(text);
    this.lineOpen = !text.endsWith('\n');
  }

  step(step: PredictedStep): void {
    if (this.format === 'json') {
      const sourceLine = step.frame ? this.lines.next(step.frame) : undefined;
      this.io.out(JSON.stringify(stepRecord(step, this.program, sourceLine)) + '\n');
      return;
    }
    if (this.lineOpen) {
      this.io.out('\n');
      this.lineOpen = false;
    }
    // A step we wrote (the entry's call with bound arguments) was never streamed: print it whole.
    if (step.origin === 'teacher-forced') this.io.out(displayFrameText(step.text) + '\n');
    for (const issue of step.issues) this.io.err(`neural-debug: predicted step ${step.index}: ${issue.message}\n`);
  }

  end(reason: string, steps: number): void {
    if (this.format === 'json') {
      this.io.out(JSON.stringify({ type: 'end', reason, steps }) + '\n');
      return;
    }
    if (this.lineOpen) this.io.out('\n');
    // The end token belongs to no step, so no step's pieces carry it: written here, as trace writes it.
    if (reason === 'ended') this.io.out(SPECIAL_TOKENS.endOfText + '\n');
  }
}

function stepRecord(step: PredictedStep, program: PromptProgram, sourceLine: number | undefined): Record<string, unknown> {
  const frame = step.frame;
  return {
    type: 'frame',
    step: step.index,
    event: step.event ?? null,
    depth: step.depth,
    origin: step.origin,
    ...(frame
      ? {
          source: frame.source,
          line: sourceLine === undefined ? null : toFileLine(program, sourceLine) ?? null,
          ...('locals' in frame ? { locals: localsToObject(frame.locals) } : { value: frame.value }),
        }
      : { text: step.text }),
    ...(step.truncated ? { truncated: step.truncated } : {}),
    ...(step.issues.length > 0 ? { issues: step.issues } : {}),
  };
}
