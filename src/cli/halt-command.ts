/** `neural-debug halt`: does a function terminate? The model's verdict with its witness, and a bounded real run. */
import * as path from 'node:path';
import { isCancelled, ModelBackend } from '../model/backend';
import { DEFAULT_MODEL_CHECK } from '../halting/model-check';
import { DEFAULT_REAL_CHECK } from '../halting/real-check';
import { findFunctionInputs, findTestInputs, FunctionInput } from '../halting/inputs';
import { judgeHalting } from '../halting/judge';
import { disagrees, HaltingReport, reportText } from '../halting/verdict';
import { buildPromptProgram, PromptError, PromptProgram } from '../trace/prompt';
import { choiceOption, intOption, numberOption, OptionSpec, parseArgs, UsageError } from './args';
import { MODEL_OPTIONS, MODEL_USAGE, openModelOrReport } from './model-options';
import { readSource, testFilesBeside } from './program-file';
import type { Io } from './trace-command';

export const HALT_USAGE = `usage: neural-debug halt FILE [options]

Does a function of FILE terminate? Prints the model's verdict (greedy and sampled predicted traces:
each ends, repeats a state, or runs out of steps), its witness (the predicted trace to the return, or
the state that repeats), and a bounded real run that confirms or refutes it.

  --entry NAME       the function (default: each function FILE gives inputs to: calls in its
                     __main__ block or at its top level, its doctests, literal calls in test_*.py /
                     *_test.py beside it; with --args, the marked function)
  --args TEXT        Python argument text for the entry (default: the inputs found)
  --max-inputs N     most inputs judged per function (default 3)
  --no-run           the model's verdict only: nothing of FILE runs
  --no-model         the real run only
  --timeout SECONDS  the real run's wall-clock limit (default ${DEFAULT_REAL_CHECK.timeoutSeconds})
  --max-real-steps N the real run's most frames (default ${DEFAULT_REAL_CHECK.maxSteps})
  --max-steps N      predicted frames per run (default ${DEFAULT_MODEL_CHECK.maxSteps})
  --samples N        sampled runs beside the greedy one (default ${DEFAULT_MODEL_CHECK.samples})
  --temperature T    their temperature (default ${DEFAULT_MODEL_CHECK.temperature})
  --format FORMAT    text (default) | json: one JSON object a line per judged call
  --no-grammar       let the model write anything (see predict --help)
  --python PATH      interpreter for the real run (default: python3 on PATH)
${MODEL_USAGE}

Steps are counted from 1. Exit status: 0 every call judged, 1 FILE or the model could not be used,
2 a usage error, 130 interrupted.`;

const OPTIONS: OptionSpec[] = [
  ...['entry', 'args', 'max-inputs', 'timeout', 'max-real-steps', 'max-steps', 'samples', 'temperature', 'format', 'python'].map((name) => ({ name, value: true })),
  ...MODEL_OPTIONS,
  ...['no-run', 'no-model', 'no-grammar'].map((name) => ({ name, value: false })),
];

interface Target {
  readonly entry: string;
  readonly args: string;
  readonly program: PromptProgram;
  /** Where the input came from, for the reader. */
  readonly from: string;
}

export async function haltCommand(argv: readonly string[], io: Io, onStop: (stop: () => void) => void): Promise<number> {
  const args = parseArgs(argv, OPTIONS);
  if (args.positional.length !== 1) throw new UsageError(args.positional.length === 0 ? 'halt needs a FILE' : `halt takes one FILE, not ${args.positional.length}`);
  const file = args.positional[0];
  const format = choiceOption(args, 'format', ['text', 'json'] as const, 'text');
  const noRun = args.flags.has('no-run');
  const noModel = args.flags.has('no-model');
  if (noRun && noModel) throw new UsageError('--no-run and --no-model leave nothing to do');
  const maxInputs = intOption(args, 'max-inputs', 1) ?? 3;
  const model = {
    maxSteps: intOption(args, 'max-steps', 1) ?? DEFAULT_MODEL_CHECK.maxSteps,
    samples: intOption(args, 'samples', 0) ?? DEFAULT_MODEL_CHECK.samples,
    temperature: numberOption(args, 'temperature', 0) ?? DEFAULT_MODEL_CHECK.temperature,
    grammar: !args.flags.has('no-grammar'),
  };
  const python = args.options.get('python');
  const real = {
    programPath: file,
    ...(python ? { python } : {}),
    timeoutSeconds: numberOption(args, 'timeout', 0.1) ?? DEFAULT_REAL_CHECK.timeoutSeconds,
    maxSteps: intOption(args, 'max-real-steps', 1) ?? DEFAULT_REAL_CHECK.maxSteps,
  };

  const text = readSource(file, io);
  if (text === undefined) return 1;
  let targets: Target[];
  try {
    targets = findTargets(text, file, args.options.get('entry'), args.options.get('args'), maxInputs);
  } catch (error) {
    if (!(error instanceof PromptError)) throw error;
    io.err(`neural-debug: ${file}: ${error.message}\n`);
    return 1;
  }
  if (targets.length === 0) {
    io.err(`neural-debug: ${file}: no function has inputs to judge (no call in __main__ or at the top level, no doctest, no test beside it); name one with --entry and --args\n`);
    return 1;
  }

  const controller = new AbortController();
  onStop(() => controller.abort());
  let backend: ModelBackend | undefined;
  if (!noModel) {
    backend = await openModelOrReport(args, io);
    if (!backend) return 1;
    io.err(`neural-debug: model ${backend.info.name} on ${backend.info.device}\n`);
  }
  try {
    for (const [i, target] of targets.entries()) {
      io.err(`neural-debug: judging ${target.entry}(${target.args}) (${target.from})\n`);
      const report = await judgeHalting(target.program, target, {
        ...(backend ? { backend } : { modelProblem: '--no-model' }),
        model: { ...model, onProgress: (done, total) => { if (done === total) return; if (done % 16 === 0) io.err(`neural-debug:   ${done}/${total} predicted frames\n`); } },
        ...(noRun ? { realSkipped: '--no-run: nothing of the program runs' } : { real }),
        ...(python ? { python } : {}),
        signal: controller.signal,
      });
      if (format === 'json') io.out(JSON.stringify(reportRecord(report, target.from)) + '\n');
      else io.out((i > 0 ? '\n' : '') + reportText(report));
    }
    return 0;
  } catch (error) {
    if (isCancelled(error)) {
      io.err('neural-debug: interrupted\n');
      return 130;
    }
    throw error;
  } finally {
    await backend?.close();
  }
}

/** What to judge: the named function and its inputs, or every function with inputs. */
function findTargets(text: string, file: string, entry: string | undefined, args: string | undefined, maxInputs: number): Target[] {
  if (entry === undefined && args !== undefined) {
    const program = buildPromptProgram(text, { args });
    return [{ entry: program.call.function, args, program, from: 'the marked function, --args' }];
  }
  const functions = findFunctionInputs(text);
  const tests = testInputsBeside(file, functions.map((fn) => fn.name));
  const wanted = entry === undefined ? functions : functions.filter((fn) => fn.name === entry);
  if (entry !== undefined && wanted.length === 0) buildPromptProgram(text, { entry }); // throws the precise PromptError
  const targets: Target[] = [];
  for (const fn of wanted) {
    const inputs: FunctionInput[] = args !== undefined ? [{ args, origin: 'user', line: 0 }] : [...fn.inputs, ...(tests.get(fn.name) ?? [])];
    if (inputs.length === 0 && entry !== undefined) inputs.push({ args: '', origin: 'user', line: 0 });
    for (const input of inputs.slice(0, maxInputs)) {
      targets.push({ entry: fn.name, args: input.args, program: buildPromptProgram(text, { entry: fn.name, args: input.args }), from: describeInput(input, file) });
    }
  }
  return targets;
}

function describeInput(input: FunctionInput, file: string): string {
  const where = `${path.basename(input.file ?? file)}:${input.line}`;
  switch (input.origin) {
    case 'main':
      return `called in __main__, ${where}`;
    case 'top-level':
      return `called at the top level, ${where}`;
    case 'doctest':
      return `a doctest, ${where}`;
    case 'test':
      return `a test, ${where}`;
    case 'user':
      return input.args === '' ? 'no arguments' : '--args';
  }
}

/** Literal calls in the test files beside `file`. */
function testInputsBeside(file: string, names: readonly string[]): Map<string, FunctionInput[]> {
  const moduleName = path.basename(file).replace(/\.py$/, '');
  const found = new Map<string, FunctionInput[]>();
  for (const test of testFilesBeside(file)) {
    for (const [name, inputs] of findTestInputs(test.text, test.path, moduleName, names)) found.set(name, [...(found.get(name) ?? []), ...inputs]);
  }
  return found;
}

function reportRecord(report: HaltingReport, from: string): Record<string, unknown> {
  return {
    entry: report.entry,
    args: report.args,
    input: from,
    model: report.model
      ? {
          name: report.model.model,
          verdict: report.model.verdict,
          confidence: Number(report.model.confidence.toFixed(3)),
          runs: report.model.runs.map((run) => ({ kind: run.kind, ...(run.seed !== undefined ? { seed: run.seed } : {}), outcome: run.outcome, steps: run.steps.length, ...(run.lasso ? { lasso: run.lasso } : {}), ...(run.problem ? { problem: run.problem } : {}) })),
        }
      : { problem: report.modelProblem },
    real: report.real
      ? { verdict: report.real.verdict, outcome: report.real.outcome, proven: report.real.proven, steps: report.real.steps, milliseconds: report.real.milliseconds, summary: report.real.summary, ...(report.real.repeat ? { repeat: report.real.repeat } : {}), ...(report.real.hidden.length ? { hidden: report.real.hidden } : {}) }
      : { skipped: report.realSkipped },
    disagree: disagrees(report),
  };
}
