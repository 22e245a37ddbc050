/** SourceLocator / TraceLineMapper: from a frame's SRC text back to a line number, duplicates included. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SourceLocator, TraceFrame, TraceLineMapper } from '../../src/trace';

/** 1-based number of the one line of `source` that reads exactly `text`, or of its `nth` occurrence. */
function lineOf(source: string, text: string, nth?: number): number {
  const found = source.split('\n').flatMap((line, i) => (line === text ? [i + 1] : []));
  if (nth === undefined) {
    assert.equal(found.length, 1, `expected exactly one line ${JSON.stringify(text)}, found ${found.length}`);
    return found[0];
  }
  assert.ok(found.length > nth, `no occurrence ${nth} of ${JSON.stringify(text)}`);
  return found[nth];
}

type Step = readonly ['call' | 'line' | 'return' | 'exception', string];

function toFrame([event, source]: Step): TraceFrame {
  return event === 'call' || event === 'line' ? { event, locals: [], source } : { event, source, value: 'None' };
}

function mapTrace(source: string, steps: readonly Step[]): Array<number | undefined> {
  const mapper = new TraceLineMapper(new SourceLocator(source));
  return steps.map((step) => mapper.next(toFrame(step)));
}

const TWO_FUNCTIONS = [
  'def f(n):',
  '    i = 0',
  '    while i < n:',
  '        i += 1',
  '    return None',
  '',
  'def g(n):',
  '    i = 10',
  '    while i < n:',
  '        i += 1',
  '    return None',
  '',
  'def h():',
  '    return None',
  '',
  'def main():  # << START_OF_TRACE',
  '    f(2)',
  '    g(11)',
  '    h()',
  '    return 0',
  '',
].join('\n');

describe('SourceLocator', () => {
  const locator = new SourceLocator(TWO_FUNCTIONS);
  const at = (text: string, nth?: number): number => lineOf(TWO_FUNCTIONS, text, nth);

  test('a unique line is found whatever the context', () => {
    assert.equal(locator.locate('    i = 10', { event: 'line' }), at('    i = 10'));
    assert.equal(locator.locate('    i = 10', { event: 'line', functionDefLine: at('def f(n):'), previousLine: 1 }), at('    i = 10'));
  });

  test('text that is on no line gives undefined', () => {
    assert.equal(locator.locate('    i = 2', { event: 'line' }), undefined);
    assert.equal(locator.locate('i = 0', { event: 'line' }), undefined, 'indentation is part of the text');
  });

  test('trailing whitespace does not matter', () => {
    assert.equal(locator.locate('    i = 10   ', { event: 'line' }), at('    i = 10'));
  });

  test('a duplicate line is found in the running function', () => {
    assert.equal(locator.locate('        i += 1', { event: 'line', functionDefLine: at('def f(n):'), previousLine: at('    while i < n:', 0) }), at('        i += 1', 0));
    assert.equal(locator.locate('        i += 1', { event: 'line', functionDefLine: at('def g(n):'), previousLine: at('    while i < n:', 1) }), at('        i += 1', 1));
    assert.equal(locator.locate('    return None', { event: 'line', functionDefLine: at('def h():'), previousLine: at('def h():') }), at('    return None', 2));
    assert.equal(locator.locate('    return None', { event: 'return', functionDefLine: at('def g(n):'), previousLine: at('    return None', 1) }), at('    return None', 1));
  });

  test('with no context a duplicate line falls back to its first occurrence', () => {
    assert.equal(locator.locate('    return None', { event: 'line' }), at('    return None', 0));
  });

  test('the START_OF_TRACE marker is ignored when matching a call frame, on either side', () => {
    const main = at('def main():  # << START_OF_TRACE');
    assert.equal(locator.locate('def main():', { event: 'call' }), main);
    assert.equal(locator.locate('def main():  # << START_OF_TRACE', { event: 'call' }), main);
    assert.equal(locator.locate('def main():  #<< START_OF_TRACE', { event: 'call' }), main, 'spacing of the marker may vary');
    const unmarked = new SourceLocator('def f(x):\n    return x\n');
    assert.equal(unmarked.locate('def f(x):  # << START_OF_TRACE', { event: 'call' }), 1);
  });

  test('the marker is not ignored in the middle of a line', () => {
    const source = 'def f():\n    x = 1  # << START_OF_TRACE then more\n';
    assert.equal(new SourceLocator(source).locate('    x = 1', { event: 'line' }), undefined);
  });
});

describe('TraceLineMapper', () => {
  const at = (text: string, nth?: number): number => lineOf(TWO_FUNCTIONS, text, nth);

  test('`i += 1` and `return None` in several functions map into the function that runs', () => {
    const steps: Step[] = [
      ['call', 'def main():'],
      ['line', '    f(2)'],
      ['call', 'def f(n):'],
      ['line', '    i = 0'],
      ['line', '    while i < n:'],
      ['line', '        i += 1'],
      ['line', '    while i < n:'],
      ['line', '        i += 1'],
      ['line', '    while i < n:'],
      ['line', '    return None'],
      ['return', '    return None'],
      ['line', '    g(11)'],
      ['call', 'def g(n):'],
      ['line', '    i = 10'],
      ['line', '    while i < n:'],
      ['line', '        i += 1'],
      ['line', '    while i < n:'],
      ['line', '    return None'],
      ['return', '    return None'],
      ['line', '    h()'],
      ['call', 'def h():'],
      ['line', '    return None'],
      ['return', '    return None'],
      ['line', '    return 0'],
      ['return', '    return 0'],
    ];
    const [fWhile, gWhile] = [at('    while i < n:', 0), at('    while i < n:', 1)];
    const [fInc, gInc] = [at('        i += 1', 0), at('        i += 1', 1)];
    const [fRet, gRet, hRet] = [at('    return None', 0), at('    return None', 1), at('    return None', 2)];
    assert.deepEqual(mapTrace(TWO_FUNCTIONS, steps), [
      at('def main():  # << START_OF_TRACE'),
      at('    f(2)'),
      at('def f(n):'),
      at('    i = 0'),
      fWhile, fInc, fWhile, fInc, fWhile,
      fRet, fRet,
      at('    g(11)'),
      at('def g(n):'),
      at('    i = 10'),
      gWhile, gInc, gWhile,
      gRet, gRet,
      at('    h()'),
      at('def h():'),
      hRet, hRet,
      at('    return 0'),
      at('    return 0'),
    ]);
  });

  test('the same line in two loops of one function maps by the previous line', () => {
    const source = ['def loops(n):', '    i = 0', '    while i < n:', '        i += 1', '    while i < 2 * n:', '        i += 1', '    return i', ''].join('\n');
    const steps: Step[] = [
      ['call', 'def loops(n):  # << START_OF_TRACE'],
      ['line', '    i = 0'],
      ['line', '    while i < n:'],
      ['line', '        i += 1'],
      ['line', '    while i < n:'],
      ['line', '    while i < 2 * n:'],
      ['line', '        i += 1'],
      ['line', '    while i < 2 * n:'],
      ['line', '    return i'],
      ['return', '    return i'],
    ];
    assert.deepEqual(mapTrace(source, steps), [1, 2, 3, 4, 3, 5, 6, 5, 7, 7]);
  });

  test('after a return the caller continues from its call line', () => {
    const source = [
      'def one():',
      '    return None',
      '',
      'def main():',
      '    x = one()',
      '    return None',
      '',
    ].join('\n');
    const steps: Step[] = [
      ['call', 'def main():'],
      ['line', '    x = one()'],
      ['call', 'def one():'],
      ['line', '    return None'],
      ['return', '    return None'],
      ['line', '    return None'],
      ['return', '    return None'],
    ];
    assert.deepEqual(mapTrace(source, steps), [4, 5, 1, 2, 2, 6, 6]);
  });

  test('an exception frame stays on the running line and keeps the activation', () => {
    const source = ['def bad():', '    raise ValueError()', '', 'def main():', '    try:', '        bad()', '    except ValueError:', '        pass', '    raise ValueError()', ''].join('\n');
    const steps: Step[] = [
      ['call', 'def main():'],
      ['line', '    try:'],
      ['line', '        bad()'],
      ['call', 'def bad():'],
      ['line', '    raise ValueError()'],
      ['exception', '    raise ValueError()'],
      ['return', '    raise ValueError()'],
      ['exception', '        bad()'],
      ['line', '    except ValueError:'],
      ['line', '        pass'],
      ['line', '    raise ValueError()'],
      ['exception', '    raise ValueError()'],
    ];
    // `    raise ValueError()` is line 2 in bad and line 9 in main.
    assert.deepEqual(mapTrace(source, steps), [4, 5, 6, 1, 2, 2, 2, 6, 7, 8, 9, 9]);
  });

  test('a trace that starts with a line frame finds its function from the line', () => {
    const mapper = new TraceLineMapper(new SourceLocator(TWO_FUNCTIONS));
    assert.equal(mapper.next({ event: 'line', locals: [], source: '    i = 10' }), at('    i = 10'));
    // The activation is g: its `i += 1` is chosen, not f's.
    assert.equal(mapper.next({ event: 'line', locals: [], source: '    while i < n:' }), at('    while i < n:', 1));
    assert.equal(mapper.next({ event: 'line', locals: [], source: '        i += 1' }), at('        i += 1', 1));
  });

  test('an unknown line keeps the previous position for what follows', () => {
    const mapper = new TraceLineMapper(new SourceLocator(TWO_FUNCTIONS));
    mapper.next({ event: 'call', locals: [], source: 'def g(n):' });
    assert.equal(mapper.next({ event: 'line', locals: [], source: '    i = 10' }), at('    i = 10'));
    assert.equal(mapper.next({ event: 'line', locals: [], source: '    print("not in the file")' }), undefined);
    assert.equal(mapper.next({ event: 'line', locals: [], source: '    while i < n:' }), at('    while i < n:', 1));
  });

  const CLASSES = [
    'class A:',
    '    def __init__(self):',
    '        self.v = 1',
    '',
    'class B:',
    '    def __init__(self):',
    '        self.v = 2',
    '',
    'def main():  # << START_OF_TRACE',
    '    a = A()',
    '    b = B()',
    '    return a.v + b.v',
    '',
  ].join('\n');

  test('duplicate `def __init__(self):`: A() enters A.__init__', () => {
    const steps: Step[] = [
      ['call', 'def main():  # << START_OF_TRACE'],
      ['line', '    a = A()'],
      ['call', '    def __init__(self):'],
      ['line', '        self.v = 1'],
      ['return', '        self.v = 1'],
    ];
    assert.deepEqual(mapTrace(CLASSES, steps), [9, 10, 2, 3, 3]);
  });

  // Regression: identical def lines share one NAME, so looking for `NAME(` on the caller's line
  // cannot choose between them; the class the caller constructs must (B() enters B.__init__).
  test('duplicate `def __init__(self):`: B() enters B.__init__, chosen by the caller line', () => {
    const steps: Step[] = [
      ['call', 'def main():'],
      ['line', '    a = A()'],
      ['call', '    def __init__(self):'],
      ['line', '        self.v = 1'],
      ['return', '        self.v = 1'],
      ['line', '    b = B()'],
      ['call', '    def __init__(self):'],
      ['line', '        self.v = 2'],
      ['return', '        self.v = 2'],
      ['line', '    return a.v + b.v'],
    ];
    assert.deepEqual(mapTrace(CLASSES, steps), [9, 10, 2, 3, 3, 11, 6, 7, 7, 12]);
  });

  // Regression: a nested helper with the same def line in two functions is the one inside the
  // calling function; otherwise its body lines are looked up in the wrong function.
  test('duplicate nested `def helper(y):` is the one inside the calling function', () => {
    const source = [
      'def f(x):',
      '    def helper(y):',
      '        return y + 1',
      '    return helper(x)',
      '',
      'def g(x):',
      '    def helper(y):',
      '        return y + 1',
      '    return helper(x)',
      '',
    ].join('\n');
    const steps: Step[] = [
      ['call', 'def g(x):'],
      ['line', '    def helper(y):'],
      ['line', '    return helper(x)'],
      ['call', '    def helper(y):'],
      ['line', '        return y + 1'],
      ['return', '        return y + 1'],
      ['return', '    return helper(x)'],
    ];
    assert.deepEqual(mapTrace(source, steps), [6, 7, 9, 7, 8, 8, 9]);
  });

  // Regression: when a loop header is repeated later in the function, the jump back from the loop
  // body goes to its own header, not forward to the second loop.
  test('the same loop header twice in one function: the body jumps back to its own header', () => {
    const source = ['def twice(xs):', '    t = 0', '    for x in xs:', '        t += x', '    for x in xs:', '        t += x', '    return t', ''].join('\n');
    const steps: Step[] = [
      ['call', 'def twice(xs):'],
      ['line', '    t = 0'],
      ['line', '    for x in xs:'],
      ['line', '        t += x'],
      ['line', '    for x in xs:'],
      ['line', '    for x in xs:'],
      ['line', '        t += x'],
      ['line', '    for x in xs:'],
      ['line', '    return t'],
      ['return', '    return t'],
    ];
    assert.deepEqual(mapTrace(source, steps), [1, 2, 3, 4, 3, 5, 6, 5, 7, 7]);
  });

  // Regression: a one-line loop runs its line again and again; a later copy of the same text must
  // not capture the repeat.
  test('a one-line loop body that repeats stays on its line', () => {
    const source = ['def spin(n):', '    while n: n -= 1', '    x = 0', '    while x < 2: x += 1', '    while n: n -= 1', '    return x', ''].join('\n');
    const steps: Step[] = [
      ['call', 'def spin(n):'],
      ['line', '    while n: n -= 1'],
      ['line', '    while n: n -= 1'],
      ['line', '    x = 0'],
      ['line', '    while x < 2: x += 1'],
      ['line', '    while n: n -= 1'],
      ['line', '    return x'],
      ['return', '    return x'],
    ];
    assert.deepEqual(mapTrace(source, steps), [1, 2, 2, 3, 4, 5, 6, 6]);
  });
});
