/**
 * `neural-debug dataset`: runs CruxEval-style rows under the real tracer and writes each one as the text
 * a CWM-format model is trained on — prompt, frames, end of trace. The bundled model's training data is
 * made this way (kernels/README.md), so it sees exactly what the debugger will show it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DatasetError, RealTrace, traceRows } from '../eval/rows';
import { encodeTrace } from '../trace/encoder';
import { promptText } from '../trace/prompt';
import { intOption, OptionSpec, parseArgs, UsageError } from './args';
import { readRowsOrReport } from './program-file';
import type { Io } from './trace-command';

export const DATASET_USAGE = `usage: neural-debug dataset --data ROWS.jsonl --out TRACES.jsonl [options]

Runs f(input) of every row (JSON lines with "code" defining f and "input", as in CruxEval) under the
real tracer and writes one JSON line per row: {"id", "text", "end", "frames"}, where "text" is the
prompt followed by the trace in CWM's format (special tokens spelled out). Rows whose program hits
a limit or cannot start are left out and counted.

  --python PATH      interpreter that runs the programs (default: python3 on PATH)
  --max-steps N      most frames a trace may have (default 400)
  --timeout S        seconds a program may run (default 10)
  --max-repr N       longest value kept (default 200 characters)
  --jobs N           programs traced at once (default 2)

Exit status: 0 done, 1 the data could not be read, 2 a usage error, 130 interrupted.`;

const OPTIONS: OptionSpec[] = ['data', 'out', 'python', 'max-steps', 'timeout', 'max-repr', 'jobs'].map((name) => ({ name, value: true }));

export async function datasetCommand(argv: readonly string[], io: Io, onStop: (stop: () => void) => void): Promise<number> {
  const args = parseArgs(argv, OPTIONS);
  if (args.positional.length > 0) throw new UsageError(`dataset takes no positional arguments (got ${args.positional[0]})`);
  const data = args.options.get('data');
  const out = args.options.get('out');
  if (data === undefined || out === undefined) throw new UsageError('dataset needs --data and --out');
  const limits = {
    maxSteps: intOption(args, 'max-steps', 1) ?? 400,
    timeoutSeconds: intOption(args, 'timeout', 1) ?? 10,
    maxReprLength: intOption(args, 'max-repr', 20) ?? 200,
  };
  const jobs = intOption(args, 'jobs', 1) ?? 2;

  const rows = readRowsOrReport(data, io);
  if (!rows) return 1;
  const abort = new AbortController();
  onStop(() => abort.abort());
  const started = Date.now();
  let lastReport = 0;
  let traces: RealTrace[];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neural-debug-dataset-'));
  try {
    traces = await traceRows(rows, {
      dir,
      python: args.options.get('python'),
      limits,
      concurrency: jobs,
      signal: abort.signal,
      onProgress: (done, total) => {
        const now = Date.now();
        if (done < total && now - lastReport < 5000) return;
        lastReport = now;
        io.err(`traced ${done}/${total} rows (${((now - started) / 1000).toFixed(0)} s)\n`);
      },
    });
  } catch (error) {
    if (!(error instanceof DatasetError)) throw error;
    io.err(`neural-debug: ${error.message}\n`);
    return abort.signal.aborted ? 130 : 1;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const counts = new Map<string, number>();
  const lines: string[] = [];
  for (const { row, program, result } of traces) {
    const reason = result.end.reason;
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
    if (reason !== 'returned' && reason !== 'raised') continue;
    const text = promptText(program.source) + encodeTrace(result.frames, true);
    lines.push(JSON.stringify({ id: row.id, text, end: reason, frames: result.frames.length }));
  }
  fs.writeFileSync(out, lines.map((line) => line + '\n').join(''));
  const summary = [...counts.entries()].sort().map(([reason, n]) => `${reason} ${n}`).join(', ');
  io.err(`wrote ${lines.length} traces to ${out} (${summary})\n`);
  return 0;
}
