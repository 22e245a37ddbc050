/**
 * The evaluation harness against a fake CWM that replays the real traces: a perfect model, and one
 * that makes a chosen mistake, so every metric has an answer known before the run.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ModelError } from '../../src/model/backend';
import { evaluate, EvalOptions, EvalRun, MeasuredRow } from '../../src/eval/harness';
import { summarize } from '../../src/eval/metrics';
import type { RealTrace } from '../../src/eval/rows';
import { buildPromptTokens } from '../../src/predictor/prompt-tokens';
import type { RecordedFrame, TraceFrame } from '../../src/trace/frame';
import { SPECIAL_TOKENS as T } from '../../src/trace/tokens';
import { defaultPython } from '../helpers/env';
import { Oracle } from '../helpers/fake-backend';
import { FlakyOracle } from '../helpers/scripted-models';
import { frameTokenCounts, rowsModel, spyBackend, tokenizer, tracedRow, tracedRows } from './world';

const OPTIONS: EvalOptions = { maxFrameTokens: 64, maxSteps: 200, teacherForced: true, freeRunning: true, grammar: true, python: defaultPython() };

function measuredRow(run: EvalRun, id: string): MeasuredRow {
  const found = run.rows.find((row) => row.id === id);
  if (found?.kind !== 'measured') throw new Error(`row ${id} was not measured`);
  return found;
}

function returnedTraces(traces: readonly RealTrace[]): RealTrace[] {
  return traces.filter((trace) => trace.result.end.reason === 'returned');
}

function totalFrames(traces: readonly RealTrace[]): number {
  return returnedTraces(traces).reduce((total, trace) => total + trace.result.frames.length, 0);
}

/** Index of the first frame of `frames` that `test` accepts. */
function indexOf(frames: readonly RecordedFrame[], test: (frame: RecordedFrame) => boolean): number {
  const index = frames.findIndex(test);
  assert.ok(index > 0, 'the trace has the frame the test needs');
  return index;
}

describe('a model that writes the real trace', () => {
  test('every step is valid and exact, every output passes but where the data is wrong', async () => {
    const traces = await tracedRows();
    const run = await evaluate(rowsModel(traces), traces, OPTIONS);
    const metrics = summarize(run);
    const steps = totalFrames(traces);
    assert.equal(run.stopped, undefined);
    assert.deepEqual(run.notes, []);
    assert.deepEqual(metrics.rows, { total: 6, measured: 5, excluded: 1, excludedBy: { raised: 1 }, notReached: 0 });
    assert.deepEqual(metrics.steps, { measured: steps, skippedForContext: 0 });
    assert.deepEqual(metrics.model.validFormat, { hits: steps, total: steps });
    assert.deepEqual(metrics.model.actionMatch, { hits: steps, total: steps });
    assert.deepEqual(metrics.model.stateMatch, { hits: steps, total: steps });
    assert.deepEqual(metrics.model.outputPass, { hits: 4, total: 5 });
    assert.equal(metrics.repeatPrevious.actionMatch.total, steps);
    assert.equal(metrics.nextLine.stateMatch.total, steps);

    const excluded = run.rows.find((row) => row.id === 'boom');
    assert.equal(excluded?.kind, 'excluded');
    assert.deepEqual(run.rows.map((row) => row.id), ['sum', 'rev', 'boom', 'twice', 'nooutput', 'wrongdata']);
    const wrong = measuredRow(run, 'wrongdata').freeRunning;
    assert.deepEqual([wrong?.pass, wrong?.predicted, wrong?.expected], [false, '2', '3']);
    // The same dict written another way is the same value.
    const twice = measuredRow(run, 'twice').freeRunning;
    assert.deepEqual([twice?.pass, twice?.predicted, twice?.expected], [true, "{'a': 6}", "{'a':6}"]);
    // Without an expected output the real run's return value is the answer.
    assert.deepEqual(measuredRow(run, 'nooutput').freeRunning?.expected, '[2, 2]');
    for (const row of run.rows) if (row.kind === 'measured') assert.equal(row.firstDivergence, undefined, row.id);

    // A perfect model writes each trace's tokens and its end: the forced first <|call_sep|> is not
    // generated, the <|end_of_text|> is.
    const tokens = returnedTraces(traces).map((trace) => frameTokenCounts(trace.result.frames).reduce((a, b) => a + b, 0));
    assert.equal(metrics.model.tokensPerTrace, tokens.reduce((a, b) => a + b, 0) / tokens.length);
    for (const trace of returnedTraces(traces)) {
      const free = measuredRow(run, trace.row.id).freeRunning;
      assert.equal(free?.frames, trace.result.frames.length, trace.row.id);
      assert.equal(free?.end, 'ended');
    }
    assert.ok((metrics.model.msPerFrame ?? 0) > 0 && (metrics.model.msPerStep ?? 0) > 0);
  });

  test('one step, one sequence per row: each step adds only the real frame before it', async () => {
    const traces = await tracedRows();
    const appended: number[][] = [];
    await evaluate(spyBackend(rowsModel(traces), appended), traces, { ...OPTIONS, freeRunning: false });
    const expected = returnedTraces(traces).map((trace) => frameTokenCounts(trace.result.frames).slice(0, -1));
    assert.deepEqual(appended, expected);
  });
});

describe('a model with a deliberate mistake', () => {
  test('one wrong value: state EM (N-1)/N, action EM and valid format N/N, the output still passes', async () => {
    const traces = await tracedRows();
    const sum = await tracedRow('sum');
    const at = indexOf(sum.result.frames, (frame) => frame.event === 'line' && frame.locals.some(([name]) => name === 'total'));
    const replay = (id: string) => (id === 'sum' ? { mistake: (index: number, frame: RecordedFrame): TraceFrame | undefined => (index === at && 'locals' in frame ? { ...frame, locals: frame.locals.map(([name, value]) => [name, name === 'total' ? '99' : value] as const) } : undefined) } : {});
    const run = await evaluate(rowsModel(traces, { replay }), traces, OPTIONS);
    const metrics = summarize(run);
    const steps = totalFrames(traces);
    assert.deepEqual(metrics.model.stateMatch, { hits: steps - 1, total: steps });
    assert.deepEqual(metrics.model.actionMatch, { hits: steps, total: steps });
    assert.deepEqual(metrics.model.validFormat, { hits: steps, total: steps });
    assert.deepEqual(metrics.model.outputPass, { hits: 4, total: 5 });
    const divergence = measuredRow(run, 'sum').firstDivergence;
    assert.deepEqual([divergence?.step, divergence?.valid, divergence?.action, divergence?.state], [at, true, true, false]);
    assert.match(divergence?.predicted ?? '', /"total": "99"/);
    assert.equal(measuredRow(run, 'sum').freeRunning?.pass, true);
  });

  test('a wrong return value of the entry: state EM (N-1)/N, and the output fails with that value', async () => {
    const traces = await tracedRows();
    const sum = await tracedRow('sum');
    const last = sum.result.frames.length - 1;
    const replay = (id: string) => (id === 'sum' ? { mistake: (index: number, frame: RecordedFrame): TraceFrame | undefined => (index === last && frame.event === 'return' ? { ...frame, value: '7' } : undefined) } : {});
    const run = await evaluate(rowsModel(traces, { replay }), traces, OPTIONS);
    const metrics = summarize(run);
    const steps = totalFrames(traces);
    assert.deepEqual(metrics.model.stateMatch, { hits: steps - 1, total: steps });
    assert.deepEqual(metrics.model.actionMatch, { hits: steps, total: steps });
    assert.deepEqual(metrics.model.outputPass, { hits: 3, total: 5 });
    const free = measuredRow(run, 'sum').freeRunning;
    assert.deepEqual([free?.pass, free?.predicted, free?.expected], [false, '7', '6']);
    assert.equal(measuredRow(run, 'sum').firstDivergence?.step, last);
  });

  test('a wrong line: action EM (N-1)/N, state EM N/N', async () => {
    const traces = await tracedRows();
    const rev = await tracedRow('rev');
    const at = indexOf(rev.result.frames, (frame) => frame.event === 'line' && frame.source.includes('r = s'));
    const replay = (id: string) => (id === 'rev' ? { mistake: (index: number, frame: RecordedFrame): TraceFrame | undefined => (index === at ? { ...frame, source: '    pass' } : undefined) } : {});
    const metrics = summarize(await evaluate(rowsModel(traces, { replay }), traces, OPTIONS));
    const steps = totalFrames(traces);
    assert.deepEqual(metrics.model.actionMatch, { hits: steps - 1, total: steps });
    assert.deepEqual(metrics.model.stateMatch, { hits: steps, total: steps });
    assert.deepEqual(metrics.model.outputPass, { hits: 4, total: 5 });
  });

  test('garbage and a frame that never ends are invalid; a bare end of trace is valid and matches nothing', async () => {
    const traces = await tracedRows();
    const garbage = [...tokenizer.encodeText('not a frame'), tokenizer.special(T.frameSep)];
    const endless = Array.from({ length: 100 }, () => tokenizer.encodeText('x')[0]);
    const end = [tokenizer.special(T.endOfText)];
    const plan: Record<string, [number, number[]]> = { rev: [2, garbage], sum: [3, end], nooutput: [1, endless] };
    const wrap = (id: string, oracle: Oracle): Oracle => (plan[id] ? new FlakyOracle(tokenizer, oracle, plan[id][0], 1, plan[id][1]) : oracle);
    const run = await evaluate(rowsModel(traces, { wrap }), traces, OPTIONS);
    const metrics = summarize(run);
    const steps = totalFrames(traces);
    assert.deepEqual(metrics.model.validFormat, { hits: steps - 2, total: steps });
    assert.deepEqual(metrics.model.actionMatch, { hits: steps - 3, total: steps });
    assert.deepEqual(metrics.model.stateMatch, { hits: steps - 3, total: steps });
    const rev = measuredRow(run, 'rev').firstDivergence;
    assert.deepEqual([rev?.step, rev?.valid, rev?.predicted], [2, false, 'not a frame<|frame_sep|>']);
    assert.match(rev?.issue ?? '', /where a frame should begin/);
    const sum = measuredRow(run, 'sum').firstDivergence;
    assert.deepEqual([sum?.step, sum?.valid, sum?.action, sum?.predicted, sum?.issue], [3, true, false, '<|end_of_text|>', undefined]);
    const endlessStep = measuredRow(run, 'nooutput').firstDivergence;
    assert.deepEqual([endlessStep?.step, endlessStep?.valid], [1, false]);
    assert.match(endlessStep?.issue ?? '', /did not end within 64 tokens/);
    // Each mistake was made once, teacher-forced: the free runs are perfect.
    assert.deepEqual(metrics.model.outputPass, { hits: 4, total: 5 });
  });
});

describe('limits and stops', () => {
  test('steps that would not fit the context are skipped and counted, for the baselines too', async () => {
    const sum = await tracedRow('sum');
    const prompt = buildPromptTokens(tokenizer, sum.program).prompt.length;
    const lengths = frameTokenCounts(sum.result.frames);
    // Room for steps 0, 1 and 2 (prefix + a whole frame budget), not for step 3.
    const contextLength = prompt + lengths[0] + lengths[1] + lengths[2] + OPTIONS.maxFrameTokens - 1;
    const run = await evaluate(rowsModel([sum], { contextLength }), [sum], OPTIONS);
    const metrics = summarize(run);
    assert.deepEqual(metrics.steps, { measured: 3, skippedForContext: sum.result.frames.length - 3 });
    assert.deepEqual(metrics.model.validFormat, { hits: 3, total: 3 });
    assert.deepEqual(metrics.model.stateMatch, { hits: 3, total: 3 });
    assert.equal(metrics.nextLine.actionMatch.total, 3);
    assert.equal(metrics.repeatPrevious.stateMatch.total, 3);
    // The free run meets the same wall before the entry returns.
    const free = measuredRow(run, 'sum').freeRunning;
    assert.deepEqual([free?.end, free?.pass], ['context', false]);
  });

  test('a free run passes on the entry\'s return only, not on a nested return of the same value', async () => {
    const sum = await tracedRow('sum');
    const frames = sum.result.frames;
    // main calls f and returns what f returned: the last two frames are f's return and main's, both 6.
    assert.deepEqual(frames.slice(-2).map((frame) => [frame.event, frame.origin.depth, 'value' in frame && frame.value]), [['return', 2, '6'], ['return', 1, '6']]);
    const cut = await evaluate(rowsModel([sum]), [sum], { ...OPTIONS, teacherForced: false, maxSteps: frames.length - 1 });
    const stopped = measuredRow(cut, 'sum').freeRunning;
    assert.deepEqual([stopped?.end, stopped?.frames, stopped?.predicted, stopped?.pass], ['max-steps', frames.length - 1, undefined, false]);
    const whole = await evaluate(rowsModel([sum]), [sum], { ...OPTIONS, teacherForced: false, maxSteps: frames.length });
    const last = measuredRow(whole, 'sum').freeRunning;
    assert.deepEqual([last?.end, last?.predicted, last?.pass], ['max-steps', '6', true]);
  });

  test('without the teacher-forced part the baselines still run on every step', async () => {
    const traces = await tracedRows();
    const backend = rowsModel(traces);
    const run = await evaluate(backend, traces, { ...OPTIONS, teacherForced: false });
    const metrics = summarize(run);
    const steps = totalFrames(traces);
    assert.equal(metrics.model.validFormat, undefined);
    assert.equal(metrics.model.msPerStep, undefined);
    assert.equal(metrics.repeatPrevious.actionMatch.total, steps);
    assert.deepEqual(metrics.model.outputPass, { hits: 4, total: 5 });
    assert.equal(backend.calls.createSequence, 5, 'one sequence per free run, none for steps');
  });

  test('a stop between rows keeps the whole rows measured and marks the run partial', async () => {
    const traces = await tracedRows();
    const abort = new AbortController();
    const run = await evaluate(rowsModel(traces), traces, { ...OPTIONS, signal: abort.signal, onRow: (done) => done === 1 && abort.abort() });
    assert.deepEqual(run.stopped, { reason: 'interrupted', message: 'interrupted' });
    assert.deepEqual(run.rows.map((row) => row.id), ['sum']);
    const metrics = summarize(run);
    const steps = (await tracedRow('sum')).result.frames.length;
    assert.deepEqual(metrics.rows, { total: 6, measured: 1, excluded: 0, excludedBy: {}, notReached: 5 });
    assert.deepEqual(metrics.model.stateMatch, { hits: steps, total: steps });
    assert.deepEqual(metrics.model.outputPass, { hits: 1, total: 1 });
  });

  test('a stop inside a row drops that row; a model failure ends the run with what was measured', async () => {
    const traces = await tracedRows();
    const abort = new AbortController();
    const stopInRev = (id: string, oracle: Oracle): Oracle => (id === 'rev' ? { next: (context, sampling) => (abort.abort(), oracle.next(context, sampling)) } : oracle);
    const stopped = await evaluate(rowsModel(traces, { wrap: stopInRev }), traces, { ...OPTIONS, signal: abort.signal });
    assert.equal(stopped.stopped?.reason, 'interrupted');
    assert.deepEqual(stopped.rows.map((row) => row.id), ['sum']);

    const failInTwice = (id: string, oracle: Oracle): Oracle =>
      id === 'twice'
        ? {
            next: () => {
              throw new ModelError('connect', 'the server went away');
            },
          }
        : oracle;
    const failed = await evaluate(rowsModel(traces, { wrap: failInTwice }), traces, OPTIONS);
    assert.deepEqual(failed.stopped, { reason: 'error', message: 'row twice: the server went away' });
    assert.deepEqual(failed.rows.map((row) => row.id), ['sum', 'rev', 'boom']);
    assert.deepEqual(summarize(failed).model.outputPass, { hits: 2, total: 2 });
  });

  test('without a Python to compare values, outputs are compared as text, and the run says so', async () => {
    const traces = await tracedRows();
    const run = await evaluate(rowsModel(traces), traces, { ...OPTIONS, teacherForced: false, python: '/nonexistent/python3' });
    assert.equal(run.notes.length, 1);
    assert.match(run.notes[0], /cannot start \/nonexistent\/python3 .*compared as text/);
    // {'a': 6} and {'a':6} are one value, but not one text.
    assert.equal(measuredRow(run, 'twice').freeRunning?.pass, false);
    assert.deepEqual(summarize(run).model.outputPass, { hits: 3, total: 5 });
  });
});
