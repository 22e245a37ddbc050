/**
 * CruxEval-style rows (`code` defining `f`, the argument text `input`, the expected `output` repr) and
 * their real traces. The evaluation and the training-data pipeline both start here, so the traces a
 * model is trained on and the ones it is measured against come from the same tracer, the same prompt
 * shape and the same limits.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildPromptProgram, PromptError, PromptProgram } from '../trace/prompt';
import { startTrace, TraceLimits, TraceResult } from '../runtime/tracer';

export interface EvalRow {
  readonly id: string;
  readonly code: string;
  /** Python argument text for `f`, e.g. `[1, 2], 'a'`. */
  readonly input: string;
  /** repr of f(input); empty where a row does not say (training data). */
  readonly output: string;
}

export class DatasetError extends Error {}

/** The function every row defines and every trace enters. */
export const ROW_ENTRY = 'f';

/**
 * Rows of a JSON-lines file. Every line must be an object with string `code` and `input`; `output` and
 * `id` are optional (the id defaults to `line-N`). A bad line is an error naming the file and the line:
 * a silently skipped row would change the metrics without anyone noticing.
 */
export function readRows(file: string): EvalRow[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new DatasetError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const rows: EvalRow[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${file}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new DatasetError(`${where}: not JSON (${(error as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DatasetError(`${where}: expected a JSON object with "code" and "input"`);
    const record = value as Record<string, unknown>;
    for (const key of ['code', 'input'] as const) {
      if (typeof record[key] !== 'string') throw new DatasetError(`${where}: "${key}" must be a string`);
    }
    for (const key of ['output', 'id'] as const) {
      if (record[key] !== undefined && typeof record[key] !== 'string') throw new DatasetError(`${where}: "${key}" must be a string when present`);
    }
    const id = (record.id as string | undefined) ?? `line-${i + 1}`;
    if (seen.has(id)) throw new DatasetError(`${where}: the id "${id}" appears twice`);
    seen.add(id);
    rows.push({ id, code: record.code as string, input: record.input as string, output: (record.output as string | undefined) ?? '' });
  });
  if (rows.length === 0) throw new DatasetError(`${file} holds no rows`);
  return rows;
}

/** The program CWM sees for a row: f's source plus the `main()` wrapper that calls f(input). */
export function rowProgram(row: EvalRow): PromptProgram {
  try {
    return buildPromptProgram(row.code, { entry: ROW_ENTRY, args: row.input });
  } catch (error) {
    if (error instanceof PromptError) throw new DatasetError(`row ${row.id}: ${error.message}`);
    throw error;
  }
}

export interface RealTrace {
  readonly row: EvalRow;
  readonly program: PromptProgram;
  readonly result: TraceResult;
}

export interface TraceRowsOptions {
  /** Folder the programs are written to (each trace runs a file, as a user's would). */
  readonly dir: string;
  readonly python?: string;
  readonly limits?: Partial<TraceLimits>;
  /** Programs traced at once. */
  readonly concurrency?: number;
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

/** Traces every row under the real tracer, in row order, a few at a time. */
export async function traceRows(rows: readonly EvalRow[], options: TraceRowsOptions): Promise<RealTrace[]> {
  const programs = rows.map(rowProgram);
  const results: RealTrace[] = new Array(rows.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < rows.length && !options.signal?.aborted) {
      const i = next++;
      const programPath = path.join(options.dir, `${safeFileName(rows[i].id)}.py`);
      fs.writeFileSync(programPath, rows[i].code);
      const run = startTrace({ programPath, program: programs[i], python: options.python, limits: options.limits });
      const stop = (): void => run.stop();
      options.signal?.addEventListener('abort', stop);
      try {
        results[i] = { row: rows[i], program: programs[i], result: await run.done };
      } finally {
        options.signal?.removeEventListener('abort', stop);
        fs.rmSync(programPath, { force: true });
      }
      options.onProgress?.(++done, rows.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 2) }, worker));
  if (options.signal?.aborted) throw new DatasetError('tracing was cancelled');
  return results;
}

function safeFileName(id: string): string {
  return id.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 80) || 'row';
}
