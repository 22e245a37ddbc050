/** The two baselines and the action/state judgement on a hand-made trace whose answers are worked out below. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { judgeGuess, nextCodeLine, nextLineGuess, repeatPreviousFrame } from '../../src/eval/baselines';
import { sameAction, sameState } from '../../src/eval/frame-match';
import type { Locals, RecordedFrame } from '../../src/trace/frame';

const SOURCE = [
  'def f(xs):', //                      1
  '    # add them up', //               2
  '    total = 0', //                   3
  '', //                                4
  '    for x in xs:', //                5
  '        total += x', //              6
  '    return total', //                7
  '', //                                8
  'def main():  # << START_OF_TRACE', // 9
  '    return f([1])', //               10
  '',
].join('\n');
const LINES = SOURCE.split('\n');

function at(line: number, depth: number, fn: string): RecordedFrame['origin'] {
  return { line, functionName: fn, depth, activation: fn === 'main' ? 1 : 2 };
}
function call(line: number, fn: string, depth: number, locals: Locals): RecordedFrame {
  return { event: 'call', locals, source: LINES[line - 1], origin: at(line, depth, fn) };
}
function step(line: number, fn: string, depth: number, locals: Locals): RecordedFrame {
  return { event: 'line', locals, source: LINES[line - 1], origin: at(line, depth, fn) };
}
function ret(line: number, fn: string, depth: number, value: string): RecordedFrame {
  return { event: 'return', source: LINES[line - 1], value, origin: at(line, depth, fn) };
}

/** main() calls f([1]); every frame CPython reports, as our tracer records them. */
const FRAMES: RecordedFrame[] = [
  call(9, 'main', 1, []), //                                                         0
  step(10, 'main', 1, []), //                                                        1
  call(1, 'f', 2, [['xs', '[1]']]), //                                               2
  step(3, 'f', 2, [['xs', '[1]']]), //                                               3
  step(5, 'f', 2, [['xs', '[1]'], ['total', '0']]), //                               4
  step(6, 'f', 2, [['xs', '[1]'], ['total', '0'], ['x', '1']]), //                   5
  step(5, 'f', 2, [['xs', '[1]'], ['total', '1'], ['x', '1']]), //                   6
  step(7, 'f', 2, [['xs', '[1]'], ['total', '1'], ['x', '1']]), //                   7
  ret(7, 'f', 2, '1'), //                                                            8
  ret(10, 'main', 1, '1'), //                                                        9
];

function matches(judge: (k: number) => { action: boolean; state: boolean }): { action: number[]; state: number[] } {
  const action: number[] = [];
  const state: number[] = [];
  FRAMES.forEach((_, k) => {
    const result = judge(k);
    if (result.action) action.push(k);
    if (result.state) state.push(k);
  });
  return { action, state };
}

describe('baselines', () => {
  test('repeat previous frame: never the action here; the state where nothing changed', () => {
    // 1: {} again; 3: the call's {xs}; 7: the last for line's locals; 9: f returned 1, so does main.
    assert.deepEqual(matches((k) => judgeGuess(repeatPreviousFrame(FRAMES, k), FRAMES[k])), { action: [], state: [1, 3, 7, 9] });
  });

  test('next line: the next line of code, skipping comments and blank lines, with the same locals', () => {
    // 1: main's body; 3: past the comment; 4: past the blank line; 5: the loop body. State: 1 ({}),
    // 3 ({xs}) and 7 (nothing changed on the second `for`); 4 and 5 gain a variable, 6 changes total.
    // 2 has no line of code after main's last line; 8 and 9 are returns.
    assert.deepEqual(matches((k) => judgeGuess(nextLineGuess(LINES, FRAMES, k), FRAMES[k])), { action: [1, 3, 4, 5], state: [1, 3, 7] });
  });

  test('step 0 has nothing before it; after a return the next-line guess claims no state', () => {
    assert.equal(repeatPreviousFrame(FRAMES, 0), undefined);
    assert.equal(nextLineGuess(LINES, FRAMES, 0), undefined);
    assert.deepEqual(judgeGuess(undefined, FRAMES[0]), { action: false, state: false });
    const afterReturn = nextLineGuess(LINES, FRAMES, 9);
    assert.deepEqual(afterReturn, { frame: { event: 'line', locals: [], source: 'def main():  # << START_OF_TRACE' }, stateless: true });
    // A stateless guess misses the state even where its placeholder would equal the real locals.
    assert.deepEqual(judgeGuess(afterReturn, step(9, 'main', 1, [])), { action: true, state: false });
  });

  test('frames of another file have no line of the prompt to follow', () => {
    const elsewhere: RecordedFrame = { event: 'line', locals: [], source: 'x = 1', origin: { ...FRAMES[3].origin, file: '/lib/other.py' } };
    assert.equal(nextLineGuess(LINES, [FRAMES[0], elsewhere, FRAMES[4]], 2), undefined);
  });

  test('nextCodeLine counts lines from 1 and stops at the end', () => {
    assert.equal(nextCodeLine(LINES, 1), '    total = 0');
    assert.equal(nextCodeLine(LINES, 0), 'def f(xs):');
    assert.equal(nextCodeLine(LINES, 10), undefined);
  });
});

describe('action and state exact match', () => {
  test('the action is the event and the exact line; a call may drop or add the START_OF_TRACE comment', () => {
    assert.equal(sameAction({ event: 'call', locals: [], source: 'def main():' }, FRAMES[0]), true);
    assert.equal(sameAction(FRAMES[0], { event: 'call', locals: [], source: 'def main():' }), true);
    // Only call frames carry the def line: elsewhere the comment is part of the line.
    assert.equal(sameAction({ event: 'line', locals: [], source: 'def main():' }, step(9, 'main', 1, [])), false);
    assert.equal(sameAction({ event: 'line', locals: [], source: '    return f([1]) ' }, FRAMES[1]), false);
    assert.equal(sameAction({ event: 'line', locals: [], source: '    return f([1])' }, FRAMES[1]), true);
    assert.equal(sameAction({ event: 'exception', source: '    return total', value: '1' }, FRAMES[8]), false);
  });

  test('the state is the locals in any order, or the value, memory addresses aside', () => {
    const locals: Locals = [['xs', '[1]'], ['total', '0'], ['node', '<Node object at 0x7f00aa>']];
    const real = step(6, 'f', 2, locals);
    assert.equal(sameState({ event: 'line', locals: [['node', '<Node object at 0x7fffff>'], ['total', '0'], ['xs', '[1]']], source: 'anything' }, real), true);
    assert.equal(sameState({ event: 'line', locals: [['xs', '[1]'], ['total', '0']], source: '' }, real), false, 'a local missing');
    assert.equal(sameState({ event: 'line', locals: [...locals, ['y', '2']], source: '' }, real), false, 'a local too many');
    assert.equal(sameState({ event: 'line', locals: [['xs', '[1]'], ['total', '1'], ['node', '<Node object at 0x7f00aa>']], source: '' }, real), false);
    assert.equal(sameState({ event: 'exception', source: '', value: '1' }, FRAMES[8]), true, 'the value, whatever the event');
    assert.equal(sameState({ event: 'return', source: '', value: '1.0' }, FRAMES[8]), false);
    assert.equal(sameState({ event: 'line', locals: [], source: '' }, ret(7, 'f', 2, '{}')), false, 'locals never match a value');
  });
});
