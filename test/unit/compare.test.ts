/** compareFrames: where a predicted frame and the real one disagree. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compareFrames, normalizeRepr, sameRepr, TraceFrame } from '../../src/trace';

function line(locals: Array<[string, string]>, source = '    x = f(a)'): TraceFrame {
  return { event: 'line', locals, source };
}

describe('compareFrames', () => {
  test('identical frames have no differences', () => {
    assert.deepEqual(compareFrames(line([['a', '1'], ['b', "'x'"]]), line([['a', '1'], ['b', "'x'"]])), []);
    const ret: TraceFrame = { event: 'return', source: '    return a', value: '[1, 2]' };
    assert.deepEqual(compareFrames(ret, { ...ret }), []);
  });

  test('a different event', () => {
    const predicted: TraceFrame = { event: 'line', locals: [], source: '    return a' };
    const actual: TraceFrame = { event: 'return', source: '    return a', value: '1' };
    assert.deepEqual(compareFrames(predicted, actual), [{ kind: 'event', predicted: 'line', actual: 'return' }]);
  });

  test('a different source line', () => {
    assert.deepEqual(compareFrames(line([], '    x = 1'), line([], '    x = 2')), [{ kind: 'source', predicted: '    x = 1', actual: '    x = 2' }]);
  });

  test('indentation is part of the source; trailing whitespace is not', () => {
    assert.deepEqual(compareFrames(line([], 'x = 1'), line([], '    x = 1')), [{ kind: 'source', predicted: 'x = 1', actual: '    x = 1' }]);
    assert.deepEqual(compareFrames(line([], '    x = 1  '), line([], '    x = 1')), []);
  });

  test('a different local value', () => {
    assert.deepEqual(compareFrames(line([['a', '1'], ['b', '2']]), line([['a', '1'], ['b', '3']])), [{ kind: 'local', name: 'b', predicted: '2', actual: '3' }]);
  });

  test('a variable only the prediction has', () => {
    const differences = compareFrames(line([['a', '1'], ['ghost', "'boo'"]]), line([['a', '1']]));
    assert.equal(differences.length, 1);
    const [difference] = differences;
    assert.equal(difference.kind, 'local');
    assert.ok(difference.kind === 'local');
    assert.equal(difference.name, 'ghost');
    assert.equal(difference.predicted, "'boo'");
    assert.equal(difference.actual, undefined);
  });

  test('a variable only the real run has', () => {
    const differences = compareFrames(line([['a', '1']]), line([['a', '1'], ['missed', '0']]));
    assert.equal(differences.length, 1);
    const [difference] = differences;
    assert.ok(difference.kind === 'local');
    assert.equal(difference.name, 'missed');
    assert.equal(difference.predicted, undefined);
    assert.equal(difference.actual, '0');
  });

  test('local order does not matter', () => {
    assert.deepEqual(compareFrames(line([['a', '1'], ['b', '2'], ['c', '3']]), line([['c', '3'], ['a', '1'], ['b', '2']])), []);
  });

  test('memory addresses are ignored, the rest of the repr is not', () => {
    const at1 = '<Node object at 0x7f3a2b1c0d90>';
    const at2 = '<Node object at 0x7f99aa000010>';
    assert.deepEqual(compareFrames(line([['n', at1]]), line([['n', at2]])), []);
    assert.deepEqual(compareFrames(line([['n', `[${at1}, ${at1}]`]]), line([['n', `[${at2}, ${at2}]`]])), []);
    const other = '<Leaf object at 0x7f99aa000010>';
    assert.deepEqual(compareFrames(line([['n', at1]]), line([['n', other]])), [{ kind: 'local', name: 'n', predicted: at1, actual: other }]);
    assert.equal(compareFrames(line([['n', '[<A at 0x1>]']]), line([['n', '[<A at 0x1>, <A at 0x2>]']])).length, 1);
  });

  test('a different return value, with addresses ignored there too', () => {
    const predicted: TraceFrame = { event: 'return', source: '    return n', value: '7' };
    assert.deepEqual(compareFrames(predicted, { event: 'return', source: '    return n', value: '8' }), [{ kind: 'value', predicted: '7', actual: '8' }]);
    assert.deepEqual(
      compareFrames({ event: 'return', source: '    return n', value: '<N at 0xdeadbeef>' }, { event: 'return', source: '    return n', value: '<N at 0x1234>' }),
      [],
    );
  });

  test('a different exception value', () => {
    const predicted: TraceFrame = { event: 'exception', source: '    raise E()', value: "KeyError('a')" };
    const actual: TraceFrame = { event: 'exception', source: '    raise E()', value: "KeyError('b')" };
    assert.deepEqual(compareFrames(predicted, actual), [{ kind: 'value', predicted: "KeyError('a')", actual: "KeyError('b')" }]);
  });

  test('the START_OF_TRACE marker on a call frame is ignored, on either side', () => {
    const marked: TraceFrame = { event: 'call', locals: [['n', '3']], source: 'def f(n):  # << START_OF_TRACE' };
    const bare: TraceFrame = { event: 'call', locals: [['n', '3']], source: 'def f(n):' };
    assert.deepEqual(compareFrames(marked, bare), []);
    assert.deepEqual(compareFrames(bare, marked), []);
    const otherDef: TraceFrame = { event: 'call', locals: [['n', '3']], source: 'def g(n):  # << START_OF_TRACE' };
    assert.deepEqual(compareFrames(otherDef, bare), [{ kind: 'source', predicted: otherDef.source, actual: bare.source }]);
  });

  test('several differences are all reported, event first', () => {
    const predicted: TraceFrame = { event: 'call', locals: [['a', '1'], ['b', '2']], source: 'def f(a, b):' };
    const actual: TraceFrame = { event: 'line', locals: [['a', '9'], ['c', '3']], source: '    return a' };
    const differences = compareFrames(predicted, actual);
    assert.deepEqual(
      differences.map((d) => (d.kind === 'local' ? `local ${d.name} ${d.predicted} ${d.actual}` : d.kind)),
      ['event', 'source', 'local a 1 9', 'local b 2 undefined', 'local c undefined 3'],
    );
  });
});

describe('normalizeRepr / sameRepr', () => {
  test('blanks hexadecimal addresses only', () => {
    assert.equal(normalizeRepr('<f at 0x7FFF12ab>'), normalizeRepr('<f at 0x1>'));
    assert.notEqual(normalizeRepr('<f at 0x1>'), normalizeRepr('<g at 0x1>'));
    assert.equal(normalizeRepr('12345'), '12345');
    assert.equal(sameRepr('0', '0'), true);
    assert.equal(sameRepr('10', '16'), false);
    assert.equal(sameRepr('<f at 0xabc>', '<f at 0xdef>'), true);
    assert.equal(sameRepr('<f at 0xabc>', '<f at 0xdef> '), false);
  });
});
