/** scanPython: logical lines, continuation lines and function definitions, without a Python process. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { enclosingFunction, indentOf, PySource, scanPython, splitLines } from '../../src/trace';

/** 1-based number of the one line of `source` that reads exactly `text`. */
function lineOf(source: string, text: string): number {
  const lines = source.split('\n');
  const found = lines.flatMap((line, i) => (line === text ? [i + 1] : []));
  assert.equal(found.length, 1, `expected exactly one line ${JSON.stringify(text)}, found ${found.length}`);
  return found[0];
}

interface FunctionSummary {
  name: string;
  defLine: number;
  firstLine: number;
  lastLine: number;
  indent: number;
  isClass: boolean;
  parent: string | null;
}

function summarize(scanned: PySource): FunctionSummary[] {
  return scanned.functions.map((fn) => ({
    name: fn.name,
    defLine: fn.defLine,
    firstLine: fn.firstLine,
    lastLine: fn.lastLine,
    indent: fn.indent,
    isClass: fn.isClass,
    parent: fn.parent === undefined ? null : scanned.functions[fn.parent].name,
  }));
}

const PROGRAM = String.raw`import functools

def outer(a):
    def inner(b):
        return a + b
    return inner(1)

@functools.lru_cache(maxsize=None)
@other(
    1,
)
def decorated(x):
    return x

async def fetch(u):
    await thing(u)

def one(): return 1
def two(
        a,
        b,
):
    return a, b

class K:
    """Doc.

def not_a_method(self):
    """
    def m(self):
        return self

    @staticmethod
    async def s():
        pass
    attr = 1

TEXT = """
def fake(y):
    return y
"""
CALL = dict(
    a="def also_fake(): pass",
    b=[
def bracketed(): pass
    ],
)
s = "# not a comment (" + str((
    1))
u = '('
q = 'it\'s ('
def after_strings(): pass
x = 1 + \
    2
def last():
    '''doc
def in_doc(): pass
'''
    return 0
`;

describe('scanPython on a program with every kind of definition', () => {
  const scanned = scanPython(PROGRAM);
  const at = (text: string): number => lineOf(PROGRAM, text);

  test('finds exactly the real definitions, with their lines, indents and parents', () => {
    const fn = (name: string, def: string, last: string, extra: Partial<FunctionSummary> = {}): FunctionSummary => ({
      name,
      defLine: at(def),
      firstLine: at(def),
      lastLine: at(last),
      indent: indentOf(def),
      isClass: false,
      parent: null,
      ...extra,
    });
    assert.deepEqual(summarize(scanned), [
      fn('outer', 'def outer(a):', '    return inner(1)'),
      fn('inner', '    def inner(b):', '        return a + b', { parent: 'outer' }),
      fn('decorated', 'def decorated(x):', '    return x', { firstLine: at('@functools.lru_cache(maxsize=None)') }),
      fn('fetch', 'async def fetch(u):', '    await thing(u)'),
      fn('one', 'def one(): return 1', 'def one(): return 1'),
      fn('two', 'def two(', '    return a, b'),
      fn('K', 'class K:', '    attr = 1', { isClass: true }),
      fn('m', '    def m(self):', '        return self', { parent: 'K' }),
      fn('s', '    async def s():', '        pass', { parent: 'K', firstLine: at('    @staticmethod') }),
      fn('after_strings', 'def after_strings(): pass', 'def after_strings(): pass'),
      fn('last', 'def last():', '    return 0'),
    ]);
  });

  test('defs inside strings, docstrings and brackets are not functions', () => {
    const names = scanned.functions.map((fn) => fn.name);
    for (const fake of ['fake', 'also_fake', 'bracketed', 'not_a_method', 'in_doc']) assert.ok(!names.includes(fake), `${fake} was taken for a function`);
  });

  test('marks the lines that begin inside a string, a bracket or after a backslash', () => {
    const continued = scanned.lines.flatMap((line, i) => (scanned.continuation[i] ? [line] : []));
    assert.deepEqual(continued, [
      '    1,', // @other( ... )
      ')',
      '        a,', // multi-line def header
      '        b,',
      '):',
      '', // inside the class docstring
      'def not_a_method(self):',
      '    """',
      'def fake(y):', // inside TEXT = """..."""
      '    return y',
      '"""',
      '    a="def also_fake(): pass",', // inside dict( ... )
      '    b=[',
      'def bracketed(): pass',
      '    ],',
      ')',
      '    1))', // the "#" and "(" inside the string did not hide the real brackets
      '    2', // backslash continuation
      'def in_doc(): pass', // inside the ''' docstring
      "'''",
    ]);
    assert.equal(scanned.continuation.length, scanned.lines.length);
    assert.equal(scanned.continuation[at('TEXT = """') - 1], false);
    assert.equal(scanned.continuation[at("u = '('") - 1], false);
  });

  test('enclosingFunction gives the innermost function, never a class', () => {
    const name = (text: string): string | undefined => enclosingFunction(scanned, at(text))?.name;
    assert.equal(name('        return a + b'), 'inner');
    assert.equal(name('    return inner(1)'), 'outer');
    assert.equal(name('def outer(a):'), 'outer');
    assert.equal(name('    return x'), 'decorated');
    assert.equal(name('        return self'), 'm');
    assert.equal(name('        pass'), 's');
    assert.equal(name('    attr = 1'), undefined, 'a class body is not a function');
    assert.equal(name('@functools.lru_cache(maxsize=None)'), undefined, 'a decorator runs outside the function');
    assert.equal(name('def fake(y):'), undefined);
    assert.equal(name('import functools'), undefined);
    assert.equal(name('def in_doc(): pass'), 'last');
    assert.equal(name('    return 0'), 'last');
  });
});

describe('scanPython, smaller cases', () => {
  test('one-line bodies one after another', () => {
    const source = 'def a(): return 1\ndef b(): return 2\nclass C: pass\ndef d(): return 3\n';
    assert.deepEqual(
      summarize(scanPython(source)).map((f) => [f.name, f.defLine, f.lastLine, f.isClass]),
      [['a', 1, 1, false], ['b', 2, 2, false], ['C', 3, 3, true], ['d', 4, 4, false]],
    );
  });

  test('several bodies closing on the same line', () => {
    const source = ['class A:', '    def f(self):', '        def g():', '            return 1', '        return g()', 'x = A()', ''].join('\n');
    assert.deepEqual(summarize(scanPython(source)), [
      { name: 'A', defLine: 1, firstLine: 1, lastLine: 5, indent: 0, isClass: true, parent: null },
      { name: 'f', defLine: 2, firstLine: 2, lastLine: 5, indent: 4, isClass: false, parent: 'A' },
      { name: 'g', defLine: 3, firstLine: 3, lastLine: 4, indent: 8, isClass: false, parent: 'f' },
    ]);
  });

  test('comments and blank lines at column 0 do not end a body; trailing ones are not part of it', () => {
    const source = ['def f():', '    x = 1', '# a comment at column 0', '', '    return x', '', '# trailing', ''].join('\n');
    const [f] = scanPython(source).functions;
    assert.equal(f.lastLine, 5);
  });

  test('a multi-line header whose closing line is dedented belongs to the def', () => {
    const source = ['def f(', 'a,', '):', '    return a', 'def g(): pass', ''].join('\n');
    assert.deepEqual(summarize(scanPython(source)).map((fn) => [fn.name, fn.defLine, fn.lastLine]), [['f', 1, 4], ['g', 5, 5]]);
  });

  test('a string continued with a backslash is a continuation line', () => {
    const source = "s = 'abc\\\ndef not_me(): pass'\ndef real(): pass\n";
    const scanned = scanPython(source);
    assert.deepEqual(scanned.continuation, [false, true, false]);
    assert.deepEqual(scanned.functions.map((fn) => fn.name), ['real']);
  });

  test('triple quotes of the other kind do not close a string', () => {
    const source = ['s = """a', "'''", 'def inside(): pass', '"""', 'def outside(): pass', ''].join('\n');
    const scanned = scanPython(source);
    assert.deepEqual(scanned.continuation, [false, true, true, true, false]);
    assert.deepEqual(scanned.functions.map((fn) => fn.name), ['outside']);
  });

  test('an escaped quote does not close a triple-quoted string', () => {
    const source = ['s = """a \\"""', 'def inside(): pass', '"""', 'def outside(): pass', ''].join('\n');
    assert.deepEqual(scanPython(source).functions.map((fn) => fn.name), ['outside']);
  });

  test('CRLF and CR line endings', () => {
    const scanned = scanPython('def f():\r\n    return 1\r\rdef g(): pass\r\n');
    assert.deepEqual(scanned.lines, ['def f():', '    return 1', '', 'def g(): pass']);
    assert.deepEqual(summarize(scanned).map((fn) => [fn.name, fn.defLine, fn.lastLine]), [['f', 1, 2], ['g', 4, 4]]);
  });

  test('names that merely start with def/class are not definitions', () => {
    const source = 'define = 1\nclassify(x)\ndefault = def_x\nasync_def = 2\n';
    assert.deepEqual(scanPython(source).functions, []);
  });

  test('an empty source', () => {
    const scanned = scanPython('');
    assert.deepEqual(scanned.lines, ['']);
    assert.deepEqual(scanned.functions, []);
  });

  // Regression: a backslash at the end of a COMMENT does not continue a line in Python; taking it
  // for one hid `def g` and left f's body open.
  test('a comment ending in a backslash does not continue the line', () => {
    const source = 'def f():\n    x = 1  # ends with \\\ndef g():\n    return 2\n';
    const scanned = scanPython(source);
    assert.deepEqual(scanned.continuation, [false, false, false, false]);
    assert.deepEqual(summarize(scanned).map((fn) => [fn.name, fn.defLine, fn.lastLine]), [['f', 1, 2], ['g', 3, 4]]);
  });
});

describe('splitLines and indentOf', () => {
  test('splitLines drops only one final empty line', () => {
    assert.deepEqual(splitLines('a\nb\n'), ['a', 'b']);
    assert.deepEqual(splitLines('a\nb'), ['a', 'b']);
    assert.deepEqual(splitLines('a\n\n'), ['a', '']);
    assert.deepEqual(splitLines('a\r\nb\rc'), ['a', 'b', 'c']);
    assert.deepEqual(splitLines('\n'), ['']);
  });

  test('indentOf counts leading spaces and tabs', () => {
    assert.equal(indentOf('    x'), 4);
    assert.equal(indentOf('\t\tx'), 2);
    assert.equal(indentOf('x  '), 0);
    assert.equal(indentOf('   '), 3);
  });
});
