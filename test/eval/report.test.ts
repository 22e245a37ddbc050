/** The printed table, the JSON document and the progress lines, from hand-made results. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EvalRun, MeasuredRow, StepOutcome } from '../../src/eval/harness';
import { summarize } from '../../src/eval/metrics';
import { formatDuration, Progress } from '../../src/eval/progress';
import { formatTable, ReportContext, reportJson } from '../../src/eval/report';

const CONTEXT: ReportContext = { model: { name: 'tiny', backend: 'onnx', device: 'cpu' }, data: 'rows.jsonl', maxFrameTokens: 256, maxSteps: 1000 };

function outcome(step: number, model: [boolean, boolean, boolean] | undefined, repeat: [boolean, boolean], next: [boolean, boolean]): StepOutcome {
  return {
    step,
    ...(model ? { model: { valid: model[0], ended: false, action: model[1], state: model[2], text: '' } } : {}),
    repeatPrevious: { action: repeat[0], state: repeat[1] },
    nextLine: { action: next[0], state: next[1] },
  };
}

const ROW_A: MeasuredRow = {
  kind: 'measured',
  id: 'a',
  frames: 4,
  steps: [outcome(0, [true, true, true], [false, false], [false, false]), outcome(1, [true, true, false], [false, true], [true, true]), outcome(2, [false, false, false], [false, false], [true, false])],
  skippedForContext: 1,
  teacherForcedMs: 30,
  freeRunning: { end: 'ended', frames: 4, tokens: 100, ms: 40, predicted: '6', expected: '6', pass: true },
};
const ROW_B: MeasuredRow = {
  kind: 'measured',
  id: 'b',
  frames: 1,
  steps: [outcome(0, [true, true, true], [false, false], [false, false])],
  skippedForContext: 0,
  teacherForcedMs: 10,
  freeRunning: { end: 'max-steps', frames: 6, tokens: 50, ms: 60, expected: "'x'", pass: false },
};
const RUN: EvalRun = {
  rows: [ROW_A, { kind: 'excluded', id: 'c', reason: 'timeout', message: 'the program ran longer than 30 s' }, ROW_B],
  total: 3,
  parts: { teacherForced: true, freeRunning: true, grammar: false },
  notes: [],
};

describe('the report', () => {
  test('a table of the model beside both baselines, with the counts behind each rate', () => {
    const table = formatTable(CONTEXT, RUN, summarize(RUN));
    assert.equal(
      table,
      [
        'model: tiny (onnx, cpu)',
        'data:  rows.jsonl: 2 rows used, 1 excluded (timeout 1)',
        'steps: 4 teacher-forced steps, 1 skipped for context',
        '',
        '                          model        repeat previous frame  next line',
        'valid format              75.0% (3/4)  —                      —',
        'action EM                 75.0% (3/4)  0.0% (0/4)             50.0% (2/4)',
        'state EM                  50.0% (2/4)  25.0% (1/4)            25.0% (1/4)',
        'output pass@1             50.0% (1/2)  —                      —',
        'tokens/trace              75.0         —                      —',
        'ms/frame                  10.0         —                      —',
        'ms/step (teacher-forced)  10.0         —                      —',
        '',
      ].join('\n'),
    );
  });

  test('parts not run say "skipped", numbers over nothing "n/a", and a stopped run is marked partial', () => {
    const partial: EvalRun = { rows: [], total: 5, parts: { teacherForced: false, freeRunning: true, grammar: false }, stopped: { reason: 'interrupted', message: 'interrupted' }, notes: ['a note'] };
    const table = formatTable(CONTEXT, partial, summarize(partial));
    assert.match(table, /^PARTIAL \(interrupted\): 0 of 5 rows reached\n/);
    assert.match(table, /\nvalid format +skipped +— +—\n/);
    assert.match(table, /\naction EM +skipped +n\/a +n\/a\n/);
    assert.match(table, /\noutput pass@1 +n\/a +—/);
    assert.match(table, /\nms\/frame +n\/a +—/);
    assert.match(table, /\nnote: a note\n$/);
  });

  test('the JSON holds every number and each row\'s detail', () => {
    const json = reportJson(CONTEXT, RUN, summarize(RUN)) as { metrics: Record<string, Record<string, unknown>>; perRow: Array<Record<string, unknown>>; partial: boolean; rows: unknown };
    assert.equal(json.partial, false);
    assert.deepEqual(json.rows, { total: 3, measured: 2, excluded: 1, excludedBy: { timeout: 1 }, notReached: 0 });
    assert.deepEqual(json.metrics.model.stateMatch, { hits: 2, total: 4, rate: 0.5 });
    assert.equal(json.metrics.model.tokensPerTrace, 75);
    assert.deepEqual(json.metrics.nextLine.actionMatch, { hits: 2, total: 4, rate: 0.5 });
    assert.deepEqual(json.perRow[1], { id: 'c', status: 'excluded', reason: 'timeout', message: 'the program ran longer than 30 s' });
    assert.deepEqual(json.perRow[2].freeRunning, { pass: false, predicted: null, expected: "'x'", end: 'max-steps', frames: 6, tokens: 50, ms: 60 });
    assert.deepEqual((json.perRow[0].teacherForced as Record<string, unknown>).stateMatch, 1);
  });
});

describe('progress', () => {
  test('in a log: a line every tenth of the way, with the time left', () => {
    const lines: string[] = [];
    let now = 0;
    const progress = new Progress({ write: (text) => lines.push(text), tty: false, label: 'evaluated', now: () => now });
    for (let done = 1; done <= 40; done++) {
      now += 1500;
      progress.update(done, 40);
    }
    progress.finish();
    assert.equal(lines.length, 10);
    assert.equal(lines[0], 'evaluated 4/40 rows, about 54 s left\n');
    assert.equal(lines[1], 'evaluated 8/40 rows, about 48 s left\n');
    assert.equal(lines[9], 'evaluated 40/40 rows\n');
  });

  test('on a terminal: one line rewritten in place, ended once', () => {
    const written: string[] = [];
    const progress = new Progress({ write: (text) => written.push(text), tty: true, label: 'traced', now: () => 0 });
    progress.update(1, 3);
    progress.update(2, 3);
    progress.finish();
    progress.finish();
    assert.deepEqual(written, ['\rtraced 1/3 rows, about 0 s left\x1b[K', '\rtraced 2/3 rows, about 0 s left\x1b[K', '\n']);
  });

  test('durations read as a person would say them', () => {
    assert.deepEqual([formatDuration(400), formatDuration(59_400), formatDuration(61_000), formatDuration(3_725_000)], ['0 s', '59 s', '1 min 1 s', '1 h 2 min']);
  });
});
