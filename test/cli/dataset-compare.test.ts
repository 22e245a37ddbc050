/**
 * `neural-debug dataset` (rows -> CWM training text, with the real tracer) and `neural-debug compare`
 * (predicted beside real), run as a user runs them: dist/cli.js in child processes.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { startServer } from '../../src/model/serve';
import { encodeTrace } from '../../src/trace/encoder';
import { promptText } from '../../src/trace/prompt';
import { defaultPython, EXAMPLES, tempDir } from '../helpers/env';
import { CliRun, runCli, runCliAsync } from '../helpers/cli';
import { testTokenizer } from '../helpers/fake-backend';
import { TINY } from '../helpers/models';
import { recordProgram, replayBackend } from '../helpers/replay-model';

/** Colour codes off: the tests read the table's text. */
const cli = (args: readonly string[]): CliRun => runCli(args, { NO_COLOR: '1' });
const cliAsync = (args: readonly string[]): Promise<CliRun> => runCliAsync(args, { NO_COLOR: '1' });

const SUM_LIST = path.join(EXAMPLES, 'sum_list.py');

describe('neural-debug dataset', () => {
  it('writes each row as prompt + real trace + end of trace, and leaves out rows that hit a limit', async () => {
    const dir = tempDir('nd-dataset-');
    const rows = [
      { id: 'adds', code: 'def f(xs):\n    total = 0\n    for x in xs:\n        total += x\n    return total\n', input: '[1, 2]' },
      { id: 'raises', code: 'def f(s):\n    return int(s)\n', input: "'x'" },
      { id: 'loops', code: 'def f(n):\n    while True:\n        n += 1\n', input: '0' },
    ];
    const data = path.join(dir, 'rows.jsonl');
    fs.writeFileSync(data, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
    const out = path.join(dir, 'traces.jsonl');
    const run = cli(['dataset', '--data', data, '--out', out, '--python', defaultPython(), '--max-steps', '50']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /wrote 2 traces .*max-steps 1, raised 1, returned 1/);
    const written = fs.readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { id: string; text: string; end: string; frames: number });
    assert.deepEqual(written.map((trace) => [trace.id, trace.end]), [['adds', 'returned'], ['raises', 'raised']]);

    // The text is exactly what the trace command's pieces make of the same program.
    const programPath = path.join(dir, 'adds.py');
    fs.writeFileSync(programPath, rows[0].code);
    const recorded = await recordProgram(programPath, { entry: 'f', args: rows[0].input });
    assert.equal(written[0].text, promptText(recorded.program.source) + encodeTrace(recorded.trace.frames, true));
    assert.equal(written[0].frames, recorded.trace.frames.length);
    assert.ok(written[1].text.includes('<|exception_sep|>'), written[1].text);
  });

  it('names the line of a bad row, and needs --data and --out', () => {
    const dir = tempDir('nd-dataset-');
    const data = path.join(dir, 'rows.jsonl');
    fs.writeFileSync(data, '{"code": "def f(): pass", "input": ""}\n{"code": 3}\n');
    const bad = cli(['dataset', '--data', data, '--out', path.join(dir, 'out.jsonl')]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /rows\.jsonl:2: "code" must be a string/);
    const usage = cli(['dataset', '--data', data]);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /needs --data and --out/);
  });
});

describe('neural-debug compare', () => {
  it('pairs a perfect prediction with the real trace: every step agrees', async () => {
    const recorded = await recordProgram(SUM_LIST, { entry: 'main' });
    const server = await startServer({ backend: replayBackend(testTokenizer(), recorded.trace.frames) });
    try {
      const run = await cliAsync(['compare', SUM_LIST, '--entry', 'main', '--endpoint', server.url, '--python', defaultPython(), '--width', '160']);
      assert.equal(run.status, 0, run.stderr);
      const n = recorded.trace.frames.length;
      assert.equal(run.stdout.split('\n').filter((line) => / │ = /.test(line)).length, n, run.stdout);
      assert.match(run.stdout, new RegExp(`${n} of ${n} real steps predicted exactly; no divergence\\.`));
      assert.match(run.stdout, /real: \d+ steps, returned 6/);
      assert.match(run.stdout, /predicted: \d+ steps, returned 6/);
    } finally {
      await server.close();
    }
  });

  it('marks a wrong value where the model makes it, and names the real one', async () => {
    const recorded = await recordProgram(SUM_LIST, { entry: 'main' });
    const wrongAt = recorded.trace.frames.findIndex((frame) => frame.event === 'line' && frame.locals.some(([name, value]) => name === 'total' && value === '1'));
    assert.ok(wrongAt > 0);
    const backend = replayBackend(testTokenizer(), recorded.trace.frames, {
      mistake: (index, frame) => (index === wrongAt && frame.event === 'line' ? { ...frame, locals: frame.locals.map(([name, value]) => [name, name === 'total' ? '7' : value] as const) } : undefined),
    });
    const server = await startServer({ backend });
    try {
      const run = await cliAsync(['compare', SUM_LIST, '--entry', 'main', '--endpoint', server.url, '--python', defaultPython(), '--width', '200']);
      assert.equal(run.status, 0, run.stderr);
      const row = run.stdout.split('\n').find((line) => line.trimStart().startsWith(`${wrongAt} `));
      assert.ok(row, run.stdout);
      assert.match(row, / │ ≠ .*total=7.*\[total: real 1\]/);
      assert.match(run.stdout, new RegExp(`first divergence at step ${wrongAt}\\.`));
    } finally {
      await server.close();
    }
  });

  it('aligns a prediction that leaves a loop early: the skipped real steps stand alone, and the rows line up again', async () => {
    const recorded = await recordProgram(SUM_LIST, { entry: 'main' });
    const frames = recorded.trace.frames;
    // The model jumps from the first `total += x` straight to `return total`, skipping two iterations.
    const jumpAt = frames.findIndex((frame) => frame.event === 'line' && frame.source.trim() === 'for x in xs:' && frame.locals.some(([name, value]) => name === 'total' && value === '1'));
    const returnLine = frames.findIndex((frame) => frame.event === 'line' && frame.source.trim() === 'return total');
    assert.ok(jumpAt > 0 && returnLine > jumpAt + 1);
    const backend = replayBackend(testTokenizer(), frames, {
      mistake: (index) => (index === jumpAt ? frames[returnLine] : undefined),
    });
    const server = await startServer({ backend });
    try {
      const run = await cliAsync(['compare', SUM_LIST, '--entry', 'main', '--endpoint', server.url, '--python', defaultPython(), '--width', '200']);
      assert.equal(run.status, 0, run.stderr);
      const rows = run.stdout.split('\n').filter((line) => line.includes(' │ '));
      const rowOf = (realIndex: number): string | undefined => rows.find((line) => line.startsWith(`${String(realIndex).padStart(4)}  `));
      // Every real step the model skipped has no predicted step beside it...
      for (let i = jumpAt; i < returnLine; i++) assert.match(rowOf(i) ?? '', / │ {3} {6}—$/, `real step ${i}:\n${run.stdout}`);
      // ...and the model's `return total` stands beside the real one, numbered as the model's step.
      assert.match(rowOf(returnLine) ?? '', new RegExp(` │ [=≠] +${jumpAt}  return total`), run.stdout);
      assert.match(run.stdout, new RegExp(`first divergence at step ${jumpAt}\\.`));
    } finally {
      await server.close();
    }
  });

  it('runs the fixture model in-process, and refuses a missing file clearly', () => {
    const run = cli(['compare', SUM_LIST, '--entry', 'main', '--model', TINY, '--device', 'cpu', '--max-steps', '3', '--python', defaultPython()]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^sum_list\.py: main\(\)\nstep +real \(our tracer\) +│ +step +predicted \(model\)\n/);
    assert.match(run.stdout, /\nreal: 3 steps, /);
    const missing = cli(['compare', 'no-such-file.py']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /cannot read no-such-file\.py: no such file/);
  });
});
