/**
 * Shared set-up of the evaluation suites: small CruxEval-style rows traced by the real tracer, and a
 * fake CWM that replays each row's real trace (optionally with a deliberate mistake), so every metric
 * has an answer known in advance.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelBackend, ModelSequence, SamplingOptions } from '../../src/model/backend';
import { EvalRow, RealTrace, traceRows } from '../../src/eval/rows';
import { buildPromptTokens } from '../../src/predictor/prompt-tokens';
import { encodeFrameTokens } from '../../src/predictor/frame-tokens';
import type { TraceFrame } from '../../src/trace/frame';
import { defaultPython, tempDir } from '../helpers/env';
import { FakeBackend, FakeBackendOptions, Oracle, testTokenizer } from '../helpers/fake-backend';
import { ReplayOptions, ReplayOracle } from '../helpers/replay-model';
import { startsWith } from '../helpers/sequence-reader';

export const tokenizer = testTokenizer();

function row(id: string, code: string, input: string, output: string): EvalRow {
  return { id, code, input, output };
}

/** Rows with known real runs: loops, a helper call, comments and blank lines, one that raises. */
export const ROWS: readonly EvalRow[] = [
  row('sum', 'def f(xs):\n    total = 0\n    for x in xs:\n        total += x\n    return total\n', '[1, 2, 3]', '6'),
  row('rev', "def f(s):\n    # reverse it\n    r = s[::-1]\n\n    return r\n", "'abc'", "'cba'"),
  row('boom', 'def f(x):\n    return 1 / x\n', '0', '0'),
  row('twice', 'def g(y):\n    return y * 2\n\ndef f(x):\n    a = g(x)\n    return {"a": a}\n', '3', "{'a':6}"),
  // No expected output: judged against what the real run returned.
  row('nooutput', 'def f(n):\n    return [n] * n\n', '2', ''),
  // The data is wrong: even a perfect model fails this row.
  row('wrongdata', 'def f(n):\n    return n + 1\n', '1', '3'),
];

let traced: Promise<RealTrace[]> | undefined;

/** ROWS under the real tracer, once per process. */
export function tracedRows(): Promise<RealTrace[]> {
  traced ??= traceRows(ROWS, { dir: tempDir('nd-eval-rows-'), python: defaultPython() });
  return traced;
}

export async function tracedRow(id: string): Promise<RealTrace> {
  const found = (await tracedRows()).find((trace) => trace.row.id === id);
  if (!found) throw new Error(`no row ${id}`);
  return found;
}

export interface RowsModelOptions extends FakeBackendOptions {
  /** Per row: a deliberate mistake of the replay. */
  readonly replay?: (id: string) => ReplayOptions;
  /** Per row: an oracle wrapped around its replay (a flaky model). */
  readonly wrap?: (id: string, oracle: Oracle) => Oracle;
}

/**
 * A fake CWM that knows every row's real trace: it tells the rows apart by their prompt and writes
 * what a perfect model would (or the mistake it was given).
 */
export function rowsModel(traces: readonly RealTrace[], options: RowsModelOptions = {}): FakeBackend {
  const entries = traces.map((trace) => {
    const replay = new ReplayOracle(tokenizer, trace.result.frames, options.replay?.(trace.row.id) ?? {});
    return { prompt: buildPromptTokens(tokenizer, trace.program).prompt, oracle: options.wrap?.(trace.row.id, replay) ?? replay };
  });
  const oracle: Oracle = {
    next(context: readonly number[], sampling: SamplingOptions): readonly number[] {
      const entry = entries.find((candidate) => startsWith(context, candidate.prompt));
      if (!entry) throw new Error('the sequence begins with no known row prompt');
      return entry.oracle.next(context, sampling);
    },
  };
  return new FakeBackend(tokenizer, oracle, options);
}

/** Tokens of a real trace as the model reads them (".." against the previous frame), frame by frame. */
export function frameTokenCounts(frames: readonly TraceFrame[]): number[] {
  return frames.map((frame, i) => encodeFrameTokens(tokenizer, frame, frames[i - 1]).tokens.length);
}

/** A backend whose sequences report every append, to show what the teacher-forced loop feeds the model. */
export function spyBackend(inner: ModelBackend, appended: number[][]): ModelBackend {
  return {
    info: inner.info,
    tokenizer: inner.tokenizer,
    close: () => inner.close(),
    async createSequence(tokens?: readonly number[]): Promise<ModelSequence> {
      const sequence = await inner.createSequence(tokens);
      const log: number[] = [];
      appended.push(log);
      return new Proxy(sequence, {
        get(target, key) {
          if (key === 'append') return (more: readonly number[]) => (log.push(more.length), target.append(more));
          const value = Reflect.get(target, key) as unknown;
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
  };
}

/** A rows file in a fresh folder. */
export function writeRows(rows: readonly EvalRow[] | string, name = 'rows.jsonl'): string {
  const file = path.join(tempDir('nd-eval-data-'), name);
  fs.writeFileSync(file, typeof rows === 'string' ? rows : rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
}
