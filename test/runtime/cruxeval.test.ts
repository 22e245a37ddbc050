/**
 * All 400 CruxEval dev programs, traced as f(input): every trace must finish, and its final return
 * value must equal the dataset's output as a Python value. The data lives beside the checkout
 * (../shared/data), never inside it; without it this suite says so and skips.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { buildPromptProgram } from '../../src/trace/prompt';
import { parseTrace } from '../../src/trace/parser';
import { encodeTrace } from '../../src/trace/encoder';
import { startTrace, TraceResult } from '../../src/runtime/tracer';
import { defaultPython, SHARED_DATA, tempDir } from '../helpers/env';

const DATA = path.join(SHARED_DATA, 'cruxeval-dev.jsonl');
const CONCURRENCY = 4;

interface Row {
  readonly id: string;
  readonly code: string;
  readonly input: string;
  readonly output: string;
}

/** Compares reprs as Python values: eval both and ==, so `{1: 2}` and `{1:2}` agree. */
const PYTHON_EQUAL = `
import json, math, sys
def same(a, b):
    try:
        x, y = eval(a), eval(b)
    except Exception:
        return a == b
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return type(x) == type(y) and x == y
json.dump([same(a, b) for a, b in json.load(sys.stdin)], sys.stdout)
`;

async function traceAll(rows: readonly Row[], dir: string): Promise<TraceResult[]> {
  const results: TraceResult[] = new Array(rows.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < rows.length) {
      const i = next++;
      const programPath = path.join(dir, `${rows[i].id}.py`);
      fs.writeFileSync(programPath, rows[i].code);
      const program = buildPromptProgram(rows[i].code, { entry: 'f', args: rows[i].input });
      results[i] = await startTrace({ programPath, program, python: defaultPython(), limits: { timeoutSeconds: 20 } }).done;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return results;
}

describe('CruxEval dev: 400 programs traced as f(input)', () => {
  if (!fs.existsSync(DATA)) {
    it('needs ../shared/data/cruxeval-dev.jsonl', { skip: `${DATA} is absent (the dataset is never committed into the repo)` }, () => undefined);
    return;
  }
  const rows = fs.readFileSync(DATA, 'utf8').split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as Row);

  let results: TraceResult[] = [];
  before(async () => {
    results = await traceAll(rows, tempDir('nd-cruxeval-'));
  });

  it('finishes every trace, and the final return value equals the expected output', () => {
    assert.equal(rows.length, 400);
    const pairs: Array<[string, string]> = [];
    const problems: string[] = [];
    results.forEach((result, i) => {
      const last = result.frames[result.frames.length - 1];
      if (result.end.reason !== 'returned' || !last || last.event !== 'return' || last.origin.depth !== 1) {
        problems.push(`${rows[i].id}: ${result.end.reason}: ${result.end.message}`);
        pairs.push(['None', 'not-None']);
      } else {
        pairs.push([last.value, rows[i].output]);
      }
    });
    const equal = JSON.parse(execFileSync(defaultPython(), ['-c', PYTHON_EQUAL], { input: JSON.stringify(pairs) }).toString()) as boolean[];
    equal.forEach((ok, i) => {
      if (!ok && results[i].end.reason === 'returned') problems.push(`${rows[i].id}: returned ${pairs[i][0]}, expected ${rows[i].output}`);
    });
    const steps = results.map((r) => r.frames.length);
    console.log(`cruxeval: ${rows.length - problems.length}/${rows.length} match; frames per trace: mean ${(steps.reduce((a, b) => a + b, 0) / steps.length).toFixed(1)}, max ${Math.max(...steps)}`);
    assert.deepEqual(problems, []);
  });

  it('writes every frame of every trace as CWM text that parses back to the same frames', () => {
    let frames = 0;
    for (const [i, result] of results.entries()) {
      const parsed = parseTrace(encodeTrace(result.frames, result.end.reason === 'returned'));
      assert.deepEqual(parsed.errors, [], rows[i].id);
      assert.deepEqual(parsed.frames, result.frames.map(({ origin: _origin, ...frame }) => frame), rows[i].id);
      assert.equal(parsed.ended, result.end.reason === 'returned', rows[i].id);
      frames += parsed.frames.length;
    }
    assert.ok(frames > 5000, `${frames} frames`);
  });
});
