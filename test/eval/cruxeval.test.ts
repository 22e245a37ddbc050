/**
 * The harness on real CruxEval rows with a model that writes each real trace: every number must be
 * perfect, the outputs judged against the dataset's own expected values. The data lives beside the
 * checkout (../shared/data) and is never committed; without it this suite says so and skips.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { evaluate } from '../../src/eval/harness';
import { summarize } from '../../src/eval/metrics';
import { readRows, traceRows } from '../../src/eval/rows';
import { defaultPython, SHARED_DATA, tempDir } from '../helpers/env';
import { rowsModel } from './world';

const DATA = path.join(SHARED_DATA, 'cruxeval-dev.jsonl');
const ROWS = 6;

describe(`CruxEval dev: the first ${ROWS} rows with a perfect model`, () => {
  if (!fs.existsSync(DATA)) {
    test('needs ../shared/data/cruxeval-dev.jsonl', { skip: `${DATA} is absent (the dataset is never committed into the repo)` }, () => undefined);
    return;
  }

  test('every step valid and exact, every output equal to the dataset\'s', async () => {
    const rows = readRows(DATA).slice(0, ROWS);
    const traces = await traceRows(rows, { dir: tempDir('nd-eval-crux-'), python: defaultPython(), concurrency: 2 });
    const run = await evaluate(rowsModel(traces), traces, { maxFrameTokens: 256, maxSteps: 1000, teacherForced: true, freeRunning: true, grammar: true, python: defaultPython() });
    const metrics = summarize(run);
    assert.equal(metrics.rows.measured, ROWS, JSON.stringify(run.rows.filter((row) => row.kind === 'excluded')));
    const steps = metrics.steps.measured;
    assert.equal(steps, traces.reduce((total, trace) => total + trace.result.frames.length, 0));
    assert.deepEqual([metrics.model.validFormat, metrics.model.actionMatch, metrics.model.stateMatch], Array(3).fill({ hits: steps, total: steps }));
    assert.deepEqual(metrics.model.outputPass, { hits: ROWS, total: ROWS });
    // Reality is not this predictable: both baselines miss steps.
    assert.ok(metrics.nextLine.actionMatch.hits < steps && metrics.repeatPrevious.stateMatch.hits < steps);
  });
});
