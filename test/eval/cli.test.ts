/**
 * `neural-debug eval` as a user runs it: dist/cli.js in a child process, on rows the test writes, with
 * the random-weight fixture model in-process and through `neural-debug serve` (the numbers are noise,
 * but they must add up, and be the same both ways).
 */
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { evaluate } from '../../src/eval/harness';
import { summarize } from '../../src/eval/metrics';
import type { EvalRow } from '../../src/eval/rows';
import { CliRun, runCli, startCli } from '../helpers/cli';
import { CLI, defaultPython, tempDir } from '../helpers/env';
import { TINY } from '../helpers/models';
import { ROWS, rowsModel, tracedRows, writeRows } from './world';

const PYTHON = ['--python', defaultPython()];

const cli = (args: readonly string[]): CliRun => runCli(args);
const cliChild = (args: readonly string[]): ReturnType<typeof startCli> => startCli(args);

function serve(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--model', TINY, '--device', 'cpu', '--port', '0', '--quiet'], { env: { ...process.env, NEURAL_DEBUG_SERVE_API_KEY: '' } });
  let stdout = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('\n')) resolve({ child, url: stdout.split('\n')[0] });
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
}

type Json = Record<string, unknown>;

function readJson(file: string): Json {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
}

/** The document without wall-clock times, which differ from run to run. */
function withoutTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTimes);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => !/^ms/.test(key)).map(([key, inner]) => [key, withoutTimes(inner)]));
}

const FOUR_ROWS = ROWS.filter((row) => ['sum', 'rev', 'boom', 'twice'].includes(row.id));
// Unconstrained, so that the same numbers come through a server (which cannot be constrained).
const FIXTURE = ['--device', 'cpu', '--max-frame-tokens', '12', '--max-steps', '3', '--no-grammar', ...PYTHON];

describe('neural-debug eval: usage and data errors', () => {
  let rows = '';
  before(() => {
    rows = writeRows(FOUR_ROWS);
  });

  test('is listed, and explains itself', () => {
    assert.match(cli(['--help']).stdout, /\n  eval +measure a model on CruxEval-style rows/);
    const help = cli(['eval', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^usage: neural-debug eval --data ROWS\.jsonl/);
    assert.match(help.stdout, /--no-teacher-forced/);
  });

  test('refuses what it cannot run, with status 2', () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /eval needs --data ROWS\.jsonl/],
      [['rows.jsonl'], /eval reads its rows from --data, not from rows\.jsonl/],
      [['--data', rows, '--limit', '0'], /--limit needs a whole number of at least 1, not "0"/],
      [['--data', rows, '--max-frame-tokens', 'many'], /--max-frame-tokens needs a whole number/],
      [['--data', rows, '--no-teacher-forced', '--no-free-running'], /leaves nothing of the model to measure/],
      [['--data', rows, '--json', path.join(tempDir('nd-eval-'), 'missing', 'out.json')], /--json .*: the folder .*missing does not exist/],
      [['--data', rows, '--model', TINY, '--endpoint', 'http://127.0.0.1:9'], /give --model or --endpoint, not both/],
      [['--data', rows, '--temperature', '1'], /unknown option --temperature/],
    ];
    for (const [args, message] of cases) {
      const run = cli(['eval', ...args]);
      assert.equal(run.status, 2, args.join(' '));
      assert.match(run.stderr, message);
      assert.match(run.stderr, /usage: neural-debug eval/);
    }
  });

  test('names the file and the line of a bad row, with status 1', () => {
    const lines = [JSON.stringify(FOUR_ROWS[0]), '{"code": "def f(): pass", "input": ', JSON.stringify(FOUR_ROWS[1])].join('\n');
    const broken = writeRows(lines);
    const run = cli(['eval', '--data', broken, '--model', TINY]);
    assert.equal(run.status, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, new RegExp(`${broken.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2: not JSON`));
    const noCode = cli(['eval', '--data', writeRows('\n{"input": "1"}\n'), '--model', TINY]);
    assert.match(noCode.stderr, /rows\.jsonl:2: "code" must be a string/);
    const missing = cli(['eval', '--data', path.join(tempDir('nd-eval-'), 'none.jsonl'), '--model', TINY]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /cannot read .*none\.jsonl: ENOENT/);
  });

  test('without --model or --endpoint it measures the bundled model', () => {
    const run = cli(['eval', '--data', rows, '--limit', '1', '--no-free-running', ...PYTHON]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^model: cwm-tiny .*\(onnx, cpu\)\n/);
    assert.match(run.stdout, /\nvalid format +\d+\.\d%/);
  });
});

describe('neural-debug eval on the fixture model', () => {
  let rows = '';
  let local: CliRun;
  let localJson: Json;
  before(() => {
    rows = writeRows(FOUR_ROWS);
    const out = path.join(tempDir('nd-eval-'), 'local.json');
    local = cli(['eval', '--data', rows, '--model', TINY, ...FIXTURE, '--json', out]);
    localJson = readJson(out);
  });

  test('runs to the end and reports counts that add up', async () => {
    assert.equal(local.status, 0, local.stderr);
    assert.match(local.stdout, /^model: tiny-cwm \(random weights, test fixture\) \(onnx, cpu\)\n/);
    assert.match(local.stdout, /: 3 rows used, 1 excluded \(raised 1\)\n/);
    for (const label of ['valid format', 'action EM', 'state EM', 'output pass@1', 'tokens/trace', 'ms/frame', 'ms/step (teacher-forced)']) {
      assert.match(local.stdout, new RegExp(`\\n${label.replace(/[()/]/g, '\\$&')} +\\S`), label);
    }
    assert.match(local.stderr, /evaluated 4\/4 rows\n/);
    assert.match(local.stderr, /\nneural-debug: row boom left out: raised: the entry function raised ZeroDivisionError/);

    const real = new Map((await tracedRows()).map((trace) => [trace.row.id, trace.result.frames.length]));
    const perRow = localJson.perRow as Json[];
    const measured = perRow.filter((row) => row.status === 'measured');
    assert.deepEqual(perRow.map((row) => [row.id, row.status]), [['sum', 'measured'], ['rev', 'measured'], ['boom', 'excluded'], ['twice', 'measured']]);
    for (const row of measured) {
      assert.equal(row.frames, real.get(row.id as string));
      assert.equal((row.steps as number) + (row.skippedForContext as number), row.frames);
    }
    const steps = measured.reduce((total, row) => total + (row.steps as number), 0);
    assert.deepEqual(localJson.steps, { measured: steps, skippedForContext: 0 });
    assert.match(local.stdout, new RegExp(`\\nsteps: ${steps} teacher-forced steps, 0 skipped for context\\n`));
    const model = (localJson.metrics as Json).model as Record<string, Json>;
    for (const name of ['validFormat', 'actionMatch', 'stateMatch'] as const) {
      const hits = measured.reduce((total, row) => total + ((row.teacherForced as Json)[name] as number), 0);
      assert.deepEqual([model[name].hits, model[name].total], [hits, steps], name);
    }
    const free = measured.map((row) => row.freeRunning as Json);
    assert.deepEqual([model.outputPass.hits, model.outputPass.total], [free.filter((run) => run.pass).length, 3]);
    assert.equal(model.tokensPerTrace, free.reduce((total, run) => total + (run.tokens as number), 0) / 3);
    for (const run of free) assert.ok((run.frames as number) <= 3 && (run.tokens as number) <= 3 * 12, JSON.stringify(run));
  });

  test('the baselines are the harness\'s own on the same real traces', async () => {
    const traces = (await tracedRows()).filter((trace) => FOUR_ROWS.includes(trace.row));
    const metrics = summarize(await evaluate(rowsModel(traces), traces, { maxFrameTokens: 12, maxSteps: 3, teacherForced: false, freeRunning: false, grammar: true, python: defaultPython() }));
    const reported = localJson.metrics as Record<string, Record<string, Json>>;
    for (const [name, ours] of [['repeatPreviousFrame', metrics.repeatPrevious], ['nextLine', metrics.nextLine]] as const) {
      assert.deepEqual([reported[name].actionMatch.hits, reported[name].stateMatch.hits], [ours.actionMatch.hits, ours.stateMatch.hits], name);
    }
  });

  test('gives the same numbers through neural-debug serve', async () => {
    const server = await serve();
    try {
      const out = path.join(tempDir('nd-eval-'), 'remote.json');
      const remote = await cliChild(['eval', '--data', rows, '--endpoint', server.url, ...FIXTURE.filter((arg) => arg !== '--device' && arg !== 'cpu'), '--json', out]).done;
      assert.equal(remote.status, 0, remote.stderr);
      const remoteJson = readJson(out);
      assert.deepEqual((remoteJson.model as Json).backend, 'remote');
      for (const key of ['rows', 'steps', 'metrics', 'perRow']) assert.deepEqual(withoutTimes(remoteJson[key]), withoutTimes(localJson[key]), key);
    } finally {
      server.child.kill('SIGINT');
      await new Promise((resolve) => (server.child.exitCode !== null ? resolve(undefined) : server.child.once('exit', resolve)));
    }
  });

  test('with the frame grammar (the default in-process), both the constrained and the unconstrained numbers', () => {
    const out = path.join(tempDir('nd-eval-'), 'grammar.json');
    const run = cli(['eval', '--data', rows, '--model', TINY, '--device', 'cpu', '--max-frame-tokens', '64', '--max-steps', '3', '--no-free-running', ...PYTHON, '--json', out]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /\n +model \(frame grammar\) +model \(unconstrained\) +repeat previous frame +next line\n/);
    const json = readJson(out);
    assert.equal((json.options as Json).grammar, true);
    const metrics = json.metrics as Record<string, Record<string, Json>>;
    const steps = (json.steps as Json).measured as number;
    for (const name of ['validFormat', 'actionMatch', 'stateMatch']) {
      assert.equal(metrics.model[name].total, steps, name);
      assert.equal(metrics.unconstrained[name].total, steps, name);
    }
    // Random weights write no valid frame on their own; held to the grammar, they write valid ones.
    assert.equal(metrics.unconstrained.validFormat.hits, 0);
    assert.ok((metrics.model.validFormat.hits as number) > steps / 2, JSON.stringify(metrics.model.validFormat));
  });

  test('skips a part on request, and says which', () => {
    const run = cli(['eval', '--data', rows, '--model', TINY, ...FIXTURE, '--limit', '1', '--no-free-running']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /: 1 rows used, 0 excluded\n/);
    assert.match(run.stdout, /\noutput pass@1 +skipped +— +—\n/);
    assert.match(run.stdout, /\nstate EM +\d+\.\d% \(\d+\/\d+\) /);
  });

  test('Ctrl-C stops, prints what was measured, marked partial, and exits 130', async () => {
    const many: EvalRow[] = Array.from({ length: 8 }, (_, i) => ({ ...FOUR_ROWS[0], id: `sum-${i}` }));
    const out = path.join(tempDir('nd-eval-'), 'partial.json');
    const run = cliChild(['eval', '--data', writeRows(many), '--model', TINY, ...FIXTURE, '--max-frame-tokens', '48', '--json', out]);
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (/evaluated 1\/8 rows/.test(run.stderr())) {
          clearInterval(check);
          resolve();
        }
      }, 20);
    });
    run.child.kill('SIGINT');
    const result = await run.done;
    assert.equal(result.status, 130, result.stderr);
    const reached = /^PARTIAL \(interrupted\): (\d) of 8 rows reached\n/.exec(result.stdout);
    assert.ok(reached, result.stdout);
    const json = readJson(out);
    assert.equal(json.partial, true);
    const rowsCount = json.rows as Json;
    assert.equal(rowsCount.measured, Number(reached[1]));
    assert.ok((rowsCount.measured as number) >= 1 && (rowsCount.measured as number) < 8);
    assert.equal(rowsCount.notReached, 8 - (rowsCount.measured as number));
  });
});
