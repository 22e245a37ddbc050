/** Alignment of predicted steps with real frames when the two traces part ways. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Alignment, AlignPoint, alignNext } from '../../src/adapter/alignment';
import type { FrameEvent } from '../../src/trace/frame';

/** `"line 3 @1"` → a point; a trace is a list of them. */
function points(...specs: string[]): AlignPoint[] {
  return specs.map((spec) => {
    const [event, line, depth] = spec.split(/[ @]+/);
    return { event: event as FrameEvent, line: line === '?' ? undefined : Number(line), depth: Number(depth) };
  });
}

function align(actual: AlignPoint[], predicted: AlignPoint[]): Array<number | undefined> {
  const alignment = new Alignment(actual);
  return predicted.map((step) => alignment.push(step));
}

// def f(xs):            line 1
//     total = 0         line 2
//     for x in xs:      line 3
//         total += x    line 4
//     return total      line 5
const loopTwice = points('call 1 @1', 'line 2 @1', 'line 3 @1', 'line 4 @1', 'line 3 @1', 'line 4 @1', 'line 3 @1', 'line 5 @1', 'return 5 @1');

describe('alignment of predicted steps with real frames', () => {
  it('an identical trace matches step for step', () => {
    assert.deepEqual(align(loopTwice, loopTwice), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('a loop predicted once too few: the step after the loop skips the remaining real iterations', () => {
    const predicted = points('call 1 @1', 'line 2 @1', 'line 3 @1', 'line 4 @1', 'line 3 @1', 'line 5 @1', 'return 5 @1');
    assert.deepEqual(align(loopTwice, predicted), [0, 1, 2, 3, 4, 7, 8]);
  });

  it('a loop predicted once too many: the extra iteration matches nothing, then the two meet again', () => {
    const predicted = points('call 1 @1', 'line 2 @1', 'line 3 @1', 'line 4 @1', 'line 3 @1', 'line 4 @1', 'line 3 @1', 'line 4 @1', 'line 3 @1', 'line 5 @1', 'return 5 @1');
    assert.deepEqual(align(loopTwice, predicted), [0, 1, 2, 3, 4, 5, 6, undefined, undefined, 7, 8]);
  });

  it('a call stepped over matches the real return after all of the callee\'s frames', () => {
    // g calls h at line 2; h (lines 6-7) calls nothing; g returns at line 3.
    const actual = points('call 1 @1', 'line 2 @1', 'call 6 @2', 'line 7 @2', 'return 7 @2', 'line 3 @1', 'return 3 @1');
    const predicted = points('call 1 @1', 'line 2 @1', 'call 6 @2', 'return 7 @2', 'line 3 @1', 'return 3 @1');
    assert.deepEqual(align(actual, predicted), [0, 1, 2, 4, 5, 6]);
  });

  it('an exception predicted where the real run returns matches nothing; the sides meet at the caller', () => {
    const actual = points('call 1 @1', 'line 2 @1', 'call 6 @2', 'line 7 @2', 'return 7 @2', 'line 3 @1', 'return 3 @1');
    const predicted = points('call 1 @1', 'line 2 @1', 'call 6 @2', 'line 7 @2', 'exception 7 @2', 'return 7 @2', 'line 3 @1');
    assert.deepEqual(align(actual, predicted), [0, 1, 2, 3, undefined, 4, 5]);
  });

  it('a real exception the prediction does not see is skipped over', () => {
    const actual = points('call 1 @1', 'line 2 @1', 'exception 2 @1', 'line 3 @1', 'return 3 @1');
    const predicted = points('call 1 @1', 'line 2 @1', 'line 3 @1', 'return 3 @1');
    assert.deepEqual(align(actual, predicted), [0, 1, 3, 4]);
  });

  it('the search never leaves the scope the predicted step lives in', () => {
    // The prediction stays in the callee at line 7 while the real run has returned; a later line 7 in
    // another call of the same function must not be taken for it.
    const actual = points('call 1 @1', 'call 6 @2', 'line 7 @2', 'return 7 @2', 'line 2 @1', 'call 6 @2', 'line 7 @2');
    assert.equal(alignNext(actual, 2, { event: 'line', line: 7, depth: 2 }), undefined);
    assert.equal(alignNext(actual, 4, { event: 'line', line: 7, depth: 2 }), 6);
  });

  it('an unplaced step (malformed output) matches nothing and does not move the real side', () => {
    const predicted = points('call 1 @1', 'line ? @1', 'line 2 @1');
    assert.deepEqual(align(loopTwice, predicted), [0, undefined, 1]);
  });

  it('truncating (step back) forgets later matches and the search resumes from the last kept one', () => {
    const alignment = new Alignment(loopTwice);
    for (const step of loopTwice.slice(0, 5)) alignment.push(step);
    alignment.truncate(3);
    assert.equal(alignment.length, 3);
    assert.equal(alignment.lastMatchedAt(10), 2);
    assert.equal(alignment.push(points('line 5 @1')[0]), 7);
  });
});
