/** `neural-debug eval`: CWM's metrics for a model on CruxEval-style rows, beside two baselines. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ModelBackend } from '../model/backend';
import { evaluate, EvalRun, ExcludedRow } from '../eval/harness';
import { summarize } from '../eval/metrics';
import { Progress } from '../eval/progress';
import { formatTable, ReportContext, reportJson } from '../eval/report';
import { DatasetError, EvalRow, RealTrace, traceRows } from '../eval/rows';
import { intOption, OptionSpec, parseArgs, UsageError } from './args';
import { MODEL_OPTIONS, MODEL_USAGE, openModelOrReport } from './model-options';
import { readRowsOrReport } from './program-file';
import type { Io } from './trace-command';

export const EVAL_USAGE = `usage: neural-debug eval --data ROWS.jsonl [options]

Measures a model on CruxEval-style rows (JSON lines: "code" defining f, "input" its argument text,
"output" the expected repr, "id"). Each row's f(input) runs under the real tracer, then the model
predicts that execution: frame by frame given the real frames before it (valid format, action and
state exact match), and whole from the bare prompt (output pass@1). The table on stdout shows each
number beside two baselines, "repeat previous frame" and "next line"; progress goes to stderr.

  --data FILE           the rows (required)
  --limit N             only the first N rows
  --max-frame-tokens N  most tokens one predicted frame may take (default 256)
  --max-steps N         most frames of one free-running prediction (default 1000)
  --no-teacher-forced   skip the per-step part
  --no-free-running     skip the whole-trace part (output pass@1, tokens/trace, ms/frame)
  --no-grammar          decode without the frame grammar (by default a model that can be
                        constrained, the bundled one or any model folder, writes only well-formed
                        frames, and the teacher-forced steps are measured both ways)
  --json FILE           also write every number and per-row detail to FILE
  --python PATH         interpreter that runs the rows and compares output values
                        (default: python3 on PATH)
${MODEL_USAGE}

Rows whose real run raises or hits a limit enter no metric; they are counted. Ctrl-C stops and
prints what was measured so far, marked partial.

Exit status: 0 done, 1 the data or the model could not be used, 2 a usage error, 130 interrupted.`;

/** Excluded rows named on stderr; the JSON has them all. */
const MAX_LISTED = 10;

const OPTIONS: OptionSpec[] = [
  ...['data', 'limit', 'max-frame-tokens', 'max-steps', 'json', 'python'].map((name) => ({ name, value: true })),
  ...MODEL_OPTIONS,
  { name: 'no-teacher-forced', value: false },
  { name: 'no-free-running', value: false },
  { name: 'no-grammar', value: false },
];

export async function evalCommand(
  argv: readonly string[],
  io: Io,
  onStop: (stop: () => void) => void,
  env: NodeJS.ProcessEnv = process.env,
  stderrIsTty: boolean = process.stderr.isTTY === true,
): Promise<number> {
  const args = parseArgs(argv, OPTIONS);
  if (args.positional.length > 0) throw new UsageError(`eval reads its rows from --data, not from ${args.positional[0]}`);
  const data = args.options.get('data');
  if (data === undefined) throw new UsageError('eval needs --data ROWS.jsonl');
  const limit = intOption(args, 'limit', 1);
  const maxFrameTokens = intOption(args, 'max-frame-tokens', 1) ?? 256;
  const maxSteps = intOption(args, 'max-steps', 1) ?? 1000;
  const teacherForced = !args.flags.has('no-teacher-forced');
  const freeRunning = !args.flags.has('no-free-running');
  if (!teacherForced && !freeRunning) throw new UsageError('--no-teacher-forced with --no-free-running leaves nothing of the model to measure');
  const jsonFile = args.options.get('json');
  // Found out now, not after an hour of model time.
  if (jsonFile !== undefined && !isFolder(path.dirname(path.resolve(jsonFile)))) throw new UsageError(`--json ${jsonFile}: the folder ${path.dirname(jsonFile)} does not exist`);
  const python = args.options.get('python');

  let rows = readRowsOrReport(data, io);
  if (!rows) return 1;
  if (limit !== undefined) rows = rows.slice(0, limit);

  const abort = new AbortController();
  onStop(() => abort.abort());
  const model = await openModelOrReport(args, io, env);
  if (!model) return 1;
  try {
    io.err(`neural-debug: model ${model.info.name} on ${model.info.device}\n`);
    if (model.info.deviceNote) io.err(`neural-debug: ${model.info.deviceNote}\n`);
    const traced = await traceAll(rows, python, abort.signal, io, stderrIsTty);
    if (typeof traced === 'number') return traced;

    const progress = new Progress({ write: io.err, tty: stderrIsTty, label: 'evaluated' });
    const run = await evaluate(model, traced, {
      grammar: !args.flags.has('no-grammar'),
      maxFrameTokens,
      maxSteps,
      teacherForced,
      freeRunning,
      ...(python !== undefined ? { python } : {}),
      signal: abort.signal,
      onRow: (done, total) => progress.update(done, total),
    });
    progress.finish();
    reportExcluded(run, io);
    const metrics = summarize(run);
    const context: ReportContext = { model: modelSummary(model), data, maxFrameTokens, maxSteps, ...(limit !== undefined ? { limit } : {}) };
    io.out(formatTable(context, run, metrics));
    if (jsonFile !== undefined) {
      try {
        fs.writeFileSync(jsonFile, JSON.stringify(reportJson(context, run, metrics), null, 2) + '\n');
      } catch (error) {
        io.err(`neural-debug: cannot write ${jsonFile}: ${(error as Error).message}\n`);
        return 1;
      }
    }
    if (run.stopped?.reason === 'interrupted') return 130;
    if (run.stopped) {
      io.err(`neural-debug: ${run.stopped.message}\n`);
      return 1;
    }
    return 0;
  } finally {
    await model.close();
  }
}

/** The real traces of the rows, or the exit status after saying why there are none. */
async function traceAll(rows: readonly EvalRow[], python: string | undefined, signal: AbortSignal, io: Io, tty: boolean): Promise<RealTrace[] | number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neural-debug-eval-'));
  const progress = new Progress({ write: io.err, tty, label: 'traced' });
  try {
    return await traceRows(rows, {
      dir,
      ...(python !== undefined ? { python } : {}),
      concurrency: Math.max(1, Math.min(4, os.availableParallelism())),
      signal,
      onProgress: (done, total) => progress.update(done, total),
    });
  } catch (error) {
    if (!(error instanceof DatasetError)) throw error;
    progress.finish();
    if (signal.aborted) {
      io.err('neural-debug: interrupted while tracing the rows; nothing was measured\n');
      return 130;
    }
    io.err(`neural-debug: ${error.message}\n`);
    return 1;
  } finally {
    progress.finish();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Which rows were left out and why, on stderr: a wrong interpreter or a timeout is seen at once. */
function reportExcluded(run: EvalRun, io: Io): void {
  const excluded = run.rows.filter((row): row is ExcludedRow => row.kind === 'excluded');
  for (const row of excluded.slice(0, MAX_LISTED)) io.err(`neural-debug: row ${row.id} left out: ${row.reason}: ${row.message.split('\n')[0]}\n`);
  if (excluded.length > MAX_LISTED) io.err(`neural-debug: and ${excluded.length - MAX_LISTED} more rows left out (--json lists them all)\n`);
}

function modelSummary(model: ModelBackend): ReportContext['model'] {
  return { name: model.info.name, backend: model.info.backend, device: model.info.device };
}

function isFolder(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
