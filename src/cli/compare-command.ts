/**
 * `neural-debug compare`: the model's predicted trace of a program beside the real one, step by step,
 * with every divergence marked. It is the debugger's compare mode in a terminal, and the main job the
 * README runs on the bundled model.
 *
 * The two traces are aligned as the debugger's compare mode aligns them (adapter/alignment.ts): a
 * predicted step stands beside the real frame of the same event, line and depth, so a loop run once too
 * few times shows the real iterations the model skipped, and the rows after it line up again. Steps
 * between two such anchors are shown side by side as they come, like the changed lines of a diff.
 */
import * as path from 'node:path';
import { Alignment } from '../adapter/alignment';
import { alignPoint, placeRecorded, PredictedPlaces } from '../adapter/places';
import { ModelError } from '../model/backend';
import { PredictedStep, predictToEnd, Predictor } from '../predictor';
import { startTrace, TraceResult } from '../runtime/tracer';
import { compareFrames, FrameDifference } from '../trace/compare';
import type { RecordedFrame, TraceFrame } from '../trace/frame';
import { intOption, OptionSpec, parseArgs, UsageError } from './args';
import { MODEL_OPTIONS, MODEL_USAGE, openModelOrReport } from './model-options';
import { readProgram } from './program-file';
import type { Io } from './trace-command';

export const COMPARE_USAGE = `usage: neural-debug compare FILE [options]

Runs FILE under the real tracer, asks the model to predict the same execution, and prints the two
traces side by side: = where a predicted step equals the real one, ≠ and what differs where not.

  --entry NAME       function to trace (default: the one marked "# << START_OF_TRACE")
  --args TEXT        Python argument text for the entry, e.g. "[1, 2], 3"
  --max-steps N      most steps on either side (default 200)
  --python PATH      interpreter for the real run (default: python3 on PATH)
  --width N          columns to fit the table in (default: the terminal's, or 120)
  --no-grammar       let the model write anything (default: a model folder's output is held to
                     the frame grammar)
${MODEL_USAGE}

Exit status: 0 compared (whether or not the traces agree), 1 the program or the model could not be
used, 2 a usage error, 130 interrupted.`;

const OPTIONS: OptionSpec[] = [...['entry', 'args', 'max-steps', 'python', 'width'].map((name) => ({ name, value: true })), ...MODEL_OPTIONS, { name: 'no-grammar', value: false }];

export async function compareCommand(argv: readonly string[], io: Io, onStop: (stop: () => void) => void): Promise<number> {
  const args = parseArgs(argv, OPTIONS);
  if (args.positional.length !== 1) throw new UsageError(args.positional.length === 0 ? 'compare needs a FILE' : `compare takes one FILE, not ${args.positional.length}`);
  const file = args.positional[0];
  const maxSteps = intOption(args, 'max-steps', 1) ?? 200;
  const width = intOption(args, 'width', 60) ?? (process.stdout.isTTY ? process.stdout.columns : 120);
  const program = readProgram(file, args.options.get('entry'), args.options.get('args'), io);
  if (!program) return 1;
  if (program.shape === 'marked' && program.call.args !== '') {
    io.err('neural-debug: compare traces a marked entry without arguments, or a named entry with --args (wrapped in main)\n');
    return 1;
  }

  const controller = new AbortController();
  const realRun = startTrace({ programPath: path.resolve(file), program, python: args.options.get('python'), limits: { maxSteps } });
  onStop(() => {
    controller.abort();
    realRun.stop();
  });
  const real = await realRun.done;
  if (real.end.reason === 'error' || real.end.reason === 'crashed') {
    io.err(`neural-debug: the real run failed: ${real.end.message}\n`);
    return 1;
  }
  if (real.end.reason === 'stopped') return 130;

  const model = await openModelOrReport(args, io);
  if (!model) return 1;
  let predictor: Predictor | undefined;
  try {
    io.err(`neural-debug: model ${model.info.name} on ${model.info.device}\n`);
    predictor = await Predictor.open(model, program, {}, { grammar: !args.flags.has('no-grammar') });
    const started = Date.now();
    // A large remote model takes seconds a frame: show the count on a terminal, then clear the line.
    const tty = process.stderr.isTTY === true;
    const onStep = tty ? (count: number) => io.err(`\rpredicting: step ${count} (the real run took ${real.frames.length})\x1b[K`) : undefined;
    const end = await predictToEnd(predictor, { maxSteps, signal: controller.signal, ...(onStep ? { onStep } : {}) });
    if (tty) io.err('\r\x1b[K');
    const seconds = (Date.now() - started) / 1000;
    const steps = predictor.steps;
    const table = new SideBySide(width, colors());
    io.out(table.header(path.basename(file), program.call.function) + '\n');
    const rows = alignRows(real.frames, steps, program.source);
    for (const row of rows) io.out(table.row(row) + '\n');
    io.out(table.summary(real, steps, rows, end === 'ended', seconds) + '\n');
    return 0;
  } catch (error) {
    if (error instanceof ModelError && error.code === 'cancelled') return 130;
    if (error instanceof ModelError) {
      io.err(`neural-debug: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    predictor?.dispose();
    await model.close();
  }
}

interface Colors {
  readonly same: (text: string) => string;
  readonly differ: (text: string) => string;
  readonly dim: (text: string) => string;
}

/** Colour only on a terminal, and never with NO_COLOR set. */
function colors(): Colors {
  const on = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
  const wrap = (code: string) => (text: string) => (on ? `\x1b[${code}m${text}\x1b[0m` : text);
  return { same: wrap('32'), differ: wrap('31'), dim: wrap('2') };
}

class SideBySide {
  private readonly column: number;

  constructor(width: number, private readonly colors: Colors) {
    // "step  " + real column + " │ " + mark (2) + "step  " + predicted column
    this.column = Math.max(24, Math.floor((width - 6 - 3 - 2 - 6) / 2));
  }

  header(file: string, entry: string): string {
    const title = `${file}: ${entry}()`;
    return `${title}\nstep  ${pad('real (our tracer)', this.column)} │   step  predicted (model)`;
  }

  row({ realIndex, real, stepIndex, step, differences }: CompareRow): string {
    const left = real ? describe(real) : this.colors.dim('—');
    let mark: string;
    let right: string;
    if (!step) {
      mark = ' ';
      right = this.colors.dim('—');
    } else if (!step.frame) {
      mark = this.colors.differ('≠');
      right = this.colors.differ(`(malformed: ${step.issues[0]?.message ?? 'no frame'})`);
    } else if (!differences) {
      mark = ' ';
      right = describe(step.frame);
    } else {
      mark = differences.length === 0 ? this.colors.same('=') : this.colors.differ('≠');
      right = describe(step.frame) + (differences.length > 0 ? this.colors.differ(`  [${differences.map(explain).join('; ')}]`) : '');
    }
    const number = (index: number | undefined): string => (index === undefined ? '' : String(index)).padStart(4);
    return `${number(realIndex)}  ${pad(left, this.column)} │ ${mark} ${number(stepIndex)}  ${right}`;
  }

  summary(real: TraceResult, steps: readonly PredictedStep[], rows: readonly CompareRow[], ended: boolean, seconds: number): string {
    const first = rows.find((row) => !agrees(row));
    const agreeing = rows.filter(agrees).length;
    const realValue = finalValue(real.frames);
    const predictedValue = finalValue(steps.flatMap((step) => (step.frame ? [step.frame] : [])));
    const lines = [
      '',
      `real: ${real.frames.length} steps, ${real.end.reason === 'returned' ? `returned ${realValue ?? '?'}` : real.end.message}`,
      `predicted: ${steps.length} steps${ended ? `, returned ${predictedValue ?? '?'}` : ' (the model did not end the trace)'}; ` +
        `${(seconds * 1000 / Math.max(1, steps.length)).toFixed(0)} ms a step`,
      `${agreeing} of ${real.frames.length} real steps predicted exactly; ` + (first ? `first divergence at ${firstDivergence(first)}.` : 'no divergence.'),
    ];
    return lines.join('\n');
  }
}

/** One row of the table: a real frame, a predicted step, or both, with what differs where both are frames. */
interface CompareRow {
  readonly realIndex?: number;
  readonly real?: RecordedFrame;
  readonly stepIndex?: number;
  readonly step?: PredictedStep;
  readonly differences?: FrameDifference[];
}

function agrees(row: CompareRow): boolean {
  return row.differences?.length === 0;
}

function firstDivergence(row: CompareRow): string {
  if (row.realIndex !== undefined) return `step ${row.realIndex}`;
  return `predicted step ${row.stepIndex ?? '?'} (no real counterpart)`;
}

/**
 * The rows of the table. Anchors are the steps the alignment matches to a real frame; the frames and
 * steps between two anchors (or after the last) are zipped side by side, extras alone on their side.
 */
function alignRows(frames: readonly RecordedFrame[], steps: readonly PredictedStep[], source: string): CompareRow[] {
  const alignment = new Alignment(frames.map(placeRecorded).map(alignPoint));
  const places = new PredictedPlaces(source);
  places.sync(steps);
  const rows: CompareRow[] = [];
  let realNext = 0;
  let stepNext = 0;
  const zip = (realEnd: number, stepEnd: number): void => {
    while (realNext < realEnd || stepNext < stepEnd) {
      rows.push(row(realNext < realEnd ? realNext++ : undefined, stepNext < stepEnd ? stepNext++ : undefined));
    }
  };
  const row = (realIndex: number | undefined, stepIndex: number | undefined): CompareRow => {
    const real = realIndex === undefined ? undefined : frames[realIndex];
    const step = stepIndex === undefined ? undefined : steps[stepIndex];
    return {
      ...(real ? { realIndex, real } : {}),
      ...(step ? { stepIndex, step } : {}),
      ...(real && step?.frame ? { differences: compareFrames(step.frame, real) } : {}),
    };
  };
  places.steps.forEach((placed, i) => {
    const match = alignment.push(alignPoint(placed));
    if (match === undefined) return;
    zip(match, i);
    rows.push(row(realNext++, stepNext++));
  });
  zip(frames.length, steps.length);
  return rows;
}

/** The entry's return value: the last return frame's. */
function finalValue(frames: readonly TraceFrame[]): string | undefined {
  const last = frames[frames.length - 1];
  return last && last.event === 'return' ? last.value : undefined;
}

function describe(frame: TraceFrame): string {
  const source = frame.source.trim().replace(/\s*#\s*<<\s*START_OF_TRACE\s*$/, '');
  if ('value' in frame) return `${frame.event === 'return' ? 'return' : 'raise'} ${frame.value}   ← ${source}`;
  const locals = frame.locals.map(([name, repr]) => `${name}=${repr}`).join(' ');
  return `${frame.event === 'call' ? 'call ' : ''}${source}${locals ? `   ${locals}` : ''}`;
}

function explain(difference: FrameDifference): string {
  switch (difference.kind) {
    case 'event':
      return `event: real ${difference.actual}`;
    case 'source':
      return `line: real ${difference.actual.trim()}`;
    case 'local':
      return difference.actual === undefined ? `${difference.name}: not real` : `${difference.name}: real ${difference.actual}`;
    case 'value':
      return `value: real ${difference.actual}`;
  }
}

/** Pads or cuts text (which may hold colour codes) to a visible width. */
function pad(text: string, width: number): string {
  // eslint-disable-next-line no-control-regex
  const visible = text.replace(/\x1b\[[0-9;]*m/g, '');
  if (visible.length > width) return visible.slice(0, width - 1) + '…';
  return text + ' '.repeat(width - visible.length);
}
