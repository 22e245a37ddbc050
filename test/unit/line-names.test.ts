/** Variable names on a line of Python, for inline values: a tokenizer, not a regex over the line. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { namesOnLine, uniqueNames } from '../../src/trace/line-names';

/** The names, in order, with duplicates. */
function names(line: string): string[] {
  return namesOnLine(line).map((n) => n.name);
}

describe('namesOnLine', () => {
  it('gives each name with its 0-based [start, end) columns, in order', () => {
    assert.deepEqual(namesOnLine('total = total + xs[i]'), [
      { name: 'total', start: 0, end: 5 },
      { name: 'total', start: 8, end: 13 },
      { name: 'xs', start: 16, end: 18 },
      { name: 'i', start: 19, end: 20 },
    ]);
    const line = '    return a_1 * _b';
    for (const { name, start, end } of namesOnLine(line)) assert.equal(line.slice(start, end), name);
    assert.deepEqual(names(line), ['a_1', '_b']);
  });

  it('skips names inside strings of every kind, and # inside them is not a comment', () => {
    assert.deepEqual(names('x = "y # z" + w'), ['x', 'w']);
    assert.deepEqual(names("a = 'b' + b'c' + r'd\\' e' + u'f' + Rb'g' + BR\"h\" + e"), ['a', 'e']);
    assert.deepEqual(names('s = """one two""" + t'), ['s', 't']);
    assert.deepEqual(names("s = '''it's' + u''' + v"), ['s', 'v']);
    assert.deepEqual(names("k = 'don\\'t' + q"), ['k', 'q']);
    // A prefix is only a prefix right before the quote.
    assert.deepEqual(names('rb = br + f'), ['rb', 'br', 'f']);
  });

  it('runs an unclosed string to the end of the line', () => {
    assert.deepEqual(names('doc = """starts here and x'), ['doc']);
    assert.deepEqual(names("bad = 'never closed y"), ['bad']);
  });

  it('stops at a comment and at a backslash continuation', () => {
    assert.deepEqual(names('x = 1  # y is z'), ['x']);
    assert.deepEqual(names('# only a comment'), []);
    assert.deepEqual(names('total = a + \\'), ['total', 'a']);
  });

  it('skips numbers of every form', () => {
    assert.deepEqual(names('x = 1e5 + 0x1F + 1_000 + 1.5j + 0o17 + 0b1010 + .5 + 3. + 1E-3 + y'), ['x', 'y']);
    assert.deepEqual(names('z = 0xabc'), ['z']);
    // Underscores go only between digits, so these names are not swallowed by the number before them.
    assert.deepEqual(names('v = 1.__class__ if 1_0else_'), ['v', '__class__', 'else_']);
  });

  it('drops attribute names but keeps the object', () => {
    assert.deepEqual(names('self.count = other.items[k].value + len(a.b.c)'), ['self', 'other', 'k', 'len', 'a']);
    assert.deepEqual(names('x = "s".join(parts)'), ['x', 'parts']);
    assert.deepEqual(names('x[...] = y'), ['x', 'y']);
  });

  it('drops keyword argument names in calls but keeps comparisons and walruses', () => {
    assert.deepEqual(names('f(key=1, other=v)'), ['f', 'v']);
    assert.deepEqual(names('f(a == b)'), ['f', 'a', 'b']);
    assert.deepEqual(names('f(a <= b, c != d, e >= g)'), ['f', 'a', 'b', 'c', 'd', 'e', 'g']);
    assert.deepEqual(names('f(x := 1)'), ['f', 'x']);
    assert.deepEqual(names('print(*args, sep=sep, **kw)'), ['print', 'args', 'sep', 'kw']);
    assert.deepEqual(names('obj.method(a, flag=True)(inner=x)'), ['obj', 'a', 'x']);
    assert.deepEqual(names('fs[0](key=k)'), ['fs', 'k']);
    assert.deepEqual(names('dict(a=1, b=dict(c=n))'), ['dict', 'dict', 'n']);
    assert.deepEqual(names('class C(Base, metaclass=Meta):'), ['C', 'Base', 'Meta']);
    // Not a call: a parenthesized expression after a keyword.
    assert.deepEqual(names('if (a == 1): b = 2'), ['a', 'b']);
  });

  it('keeps def parameters, with or without defaults, and their annotations', () => {
    assert.deepEqual(names('def f(a, b=1, *rest, c: int = 2, **kw) -> str:'), ['f', 'a', 'b', 'rest', 'c', 'int', 'kw', 'str']);
    assert.deepEqual(names('async def g(x=h(y=1)):'), ['g', 'x', 'h']);
  });

  it('keeps lambda parameters and the names they use', () => {
    assert.deepEqual(names('lambda x: x + y'), ['x', 'x', 'y']);
    assert.deepEqual(names('sorted(xs, key=lambda item, d=0: item[d])'), ['sorted', 'xs', 'item', 'd', 'item', 'd']);
  });

  it('finds names in dict and set literals', () => {
    assert.deepEqual(names("d = {'k': v, k2: [w]}"), ['d', 'v', 'k2', 'w']);
    assert.deepEqual(names('s = {a, b}'), ['s', 'a', 'b']);
  });

  it('excludes keywords', () => {
    assert.deepEqual(names('if x is not None and y:'), ['x', 'y']);
    assert.deepEqual(names('for i, v in enumerate(xs):'), ['i', 'v', 'enumerate', 'xs']);
    assert.deepEqual(names('return [a for a in b if a] or False'), ['a', 'a', 'b', 'a']);
    assert.deepEqual(names('while not done: await task; yield value'), ['done', 'task', 'value']);
    assert.deepEqual(names('from pkg.mod import thing as alias'), ['pkg', 'thing', 'alias']);
  });

  it('reads decorators', () => {
    assert.deepEqual(names('@functools.lru_cache(maxsize=limit)'), ['functools', 'limit']);
    assert.deepEqual(names('@property'), ['property']);
    assert.deepEqual(names('result = m @ n'), ['result', 'm', 'n']);
  });

  it('counts a tab as one column', () => {
    assert.deepEqual(namesOnLine('\tx =\ty'), [{ name: 'x', start: 1, end: 2 }, { name: 'y', start: 5, end: 6 }]);
  });

  it('reads unicode identifiers, normalized as Python does', () => {
    assert.deepEqual(namesOnLine('café = naïve + 1'), [{ name: 'café', start: 0, end: 4 }, { name: 'naïve', start: 7, end: 12 }]);
    // Mathematical italic x is two UTF-16 units and the same variable as x.
    assert.deepEqual(namesOnLine('𝑥 = x'), [{ name: 'x', start: 0, end: 2 }, { name: 'x', start: 5, end: 6 }]);
    assert.deepEqual(names('π = 3.14  # ≈ τ / 2'), ['π']);
  });

  it('finds names inside f-string replacement fields', () => {
    const line = 'msg = f"{x + 1} and {obj.attr!r:>{width}} {{not_a_name}} {y=}"';
    assert.deepEqual(namesOnLine(line).map((n) => [n.name, line.slice(n.start, n.end)]), [
      ['msg', 'msg'], ['x', 'x'], ['obj', 'obj'], ['width', 'width'], ['y', 'y'],
    ]);
    assert.deepEqual(names("f'{d[\"k\"]} {f(a=b)} {c != e}' + rest"), ['d', 'f', 'b', 'c', 'e', 'rest']);
    assert.deepEqual(names("F'{x:%H:%M}' + RF'{y}\\d' + b'{z}'"), ['x', 'y']);
    assert.deepEqual(names("f'{{x}}' + f'\\N{BULLET} {y}'"), ['y']);
    assert.deepEqual(names('f"""{a} and the string goes on'), ['a']);
  });

  it('reads match, case and type as names except where they start their statement', () => {
    assert.deepEqual(names('match command.split():'), ['command']);
    assert.deepEqual(names('match (a, b):'), ['a', 'b']);
    assert.deepEqual(names('case [x, _, *rest] if x > _limit:'), ['x', 'rest', 'x', '_limit']);
    assert.deepEqual(names('case Point(x=0, y=yy) | {"k": _}:'), ['Point', 'yy']);
    assert.deepEqual(names('case _:'), []);
    assert.deepEqual(names('match = re.match(pattern, s)'), ['match', 're', 'pattern', 's']);
    assert.deepEqual(names('match(x)'), ['match', 'x']);
    assert.deepEqual(names('case.value = 1'), ['case']);
    assert.deepEqual(names('_ = compute(_)'), ['_', 'compute', '_']);
    assert.deepEqual(names('type Alias = list[T]'), ['Alias', 'list', 'T']);
    assert.deepEqual(names('kind = type(obj)'), ['kind', 'type', 'obj']);
    assert.deepEqual(names('type(obj)'), ['type', 'obj']);
  });

  it('gives nothing for an empty or blank line', () => {
    assert.deepEqual(namesOnLine(''), []);
    assert.deepEqual(namesOnLine('   \t  '), []);
    assert.deepEqual(namesOnLine('pass'), []);
  });
});

describe('uniqueNames', () => {
  it('lists each name once, in order of first appearance', () => {
    assert.deepEqual(uniqueNames('total = total + x * x + y.total'), ['total', 'x', 'y']);
    assert.deepEqual(uniqueNames(''), []);
  });
});
