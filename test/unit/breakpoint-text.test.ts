/** Hit conditions and log message templates of breakpoints, without a Python process. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { formatLogMessage, parseHitCondition, splitLogMessage } from '../../src/runtime/breakpoint-text';
import type { EvalResult } from '../../src/runtime/expression-evaluator';

/** Which of hits 1..12 pass the condition. */
function passing(text: string): number[] {
  const parsed = parseHitCondition(text);
  assert.ok('test' in parsed, `"${text}" should parse, got: ${'error' in parsed ? parsed.error : ''}`);
  return Array.from({ length: 12 }, (_, i) => i + 1).filter((hits) => parsed.test(hits));
}

describe('parseHitCondition', () => {
  it('takes a bare number as "exactly that hit"', () => {
    assert.deepEqual(passing('5'), [5]);
    assert.deepEqual(passing('  5  '), [5]);
    assert.deepEqual(passing('== 5'), [5]);
    assert.deepEqual(passing('==5'), [5]);
  });

  it('compares with every operator', () => {
    assert.deepEqual(passing('!= 5'), [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12]);
    assert.deepEqual(passing('> 10'), [11, 12]);
    assert.deepEqual(passing('>= 10'), [10, 11, 12]);
    assert.deepEqual(passing('< 3'), [1, 2]);
    assert.deepEqual(passing('<=3'), [1, 2, 3]);
  });

  it('takes % N as every Nth hit', () => {
    assert.deepEqual(passing('% 3'), [3, 6, 9, 12]);
    assert.deepEqual(passing('%1'), passing('>= 0'));
    assert.deepEqual(passing('\t% 5 '), [5, 10]);
  });

  it('explains what it accepts when it cannot parse', () => {
    for (const text of ['', 'x', '=> 5', '5 5', '> -1', '>= 1.5', '% 3 == 0', '= 5', 'hits > 3']) {
      const parsed = parseHitCondition(text);
      assert.ok('error' in parsed, `"${text}" should be refused`);
      assert.match(parsed.error, /== N, != N, > N, >= N, < N, <= N or % N/);
      assert.ok(parsed.error.includes(`"${text.trim()}"`));
    }
    const zero = parseHitCondition('% 0');
    assert.ok('error' in zero && /divides by zero/.test(zero.error));
  });
});

describe('splitLogMessage', () => {
  it('splits text and expressions', () => {
    assert.deepEqual(splitLogMessage('x is {x}, sum {a + b}'), [
      { text: 'x is ' }, { expression: 'x' }, { text: ', sum ' }, { expression: 'a + b' },
    ]);
    assert.deepEqual(splitLogMessage('{x}{y}'), [{ expression: 'x' }, { expression: 'y' }]);
    assert.deepEqual(splitLogMessage('plain text'), [{ text: 'plain text' }]);
    assert.deepEqual(splitLogMessage(''), []);
  });

  it('reads doubled braces as literal braces', () => {
    assert.deepEqual(splitLogMessage('{{literal}} and {x}'), [{ text: '{literal} and ' }, { expression: 'x' }]);
    assert.deepEqual(splitLogMessage('{{{x}}}'), [{ text: '{' }, { expression: 'x' }, { text: '}' }]);
  });

  it('nests brackets inside an expression and trims it', () => {
    assert.deepEqual(splitLogMessage("v={ {'a': 1}['a'] }!"), [{ text: 'v=' }, { expression: "{'a': 1}['a']" }, { text: '!' }]);
    assert.deepEqual(splitLogMessage('{[x for x in {1: {2}}]}'), [{ expression: '[x for x in {1: {2}}]' }]);
    assert.deepEqual(splitLogMessage('{f(a, (b))}.'), [{ expression: 'f(a, (b))' }, { text: '.' }]);
  });

  it('ignores braces inside string literals of an expression', () => {
    assert.deepEqual(splitLogMessage("{d['}']} end"), [{ expression: "d['}']" }, { text: ' end' }]);
    assert.deepEqual(splitLogMessage('{"{" + s}'), [{ expression: '"{" + s' }]);
    assert.deepEqual(splitLogMessage("{'it\\'s }'}"), [{ expression: "'it\\'s }'" }]);
    assert.deepEqual(splitLogMessage("{'''}'''}x"), [{ expression: "'''}'''" }, { text: 'x' }]);
    assert.deepEqual(splitLogMessage("{f'{y}' + z}"), [{ expression: "f'{y}' + z" }]);
  });

  it('keeps an unclosed brace, an empty one and a lone closing one as text', () => {
    assert.deepEqual(splitLogMessage('a {x'), [{ text: 'a {x' }]);
    assert.deepEqual(splitLogMessage('{y} then {x + (1}'), [{ expression: 'y' }, { text: ' then {x + (1}' }]);
    assert.deepEqual(splitLogMessage("{s + '}"), [{ text: "{s + '}" }]);
    assert.deepEqual(splitLogMessage('empty {} or { } here'), [{ text: 'empty {} or { } here' }]);
    assert.deepEqual(splitLogMessage('a } b {x}'), [{ text: 'a } b ' }, { expression: 'x' }]);
  });
});

describe('formatLogMessage', () => {
  /** A stand-in evaluator: the expression inside str((...)) looked up in a table of reprs. */
  function table(values: Record<string, EvalResult>, asked: string[] = []): (expression: string) => Promise<EvalResult> {
    return async (expression) => {
      asked.push(expression);
      const inner = /^str\(\(\n([\s\S]*)\n\)\)$/.exec(expression);
      assert.ok(inner, `unexpected request ${JSON.stringify(expression)}`);
      return values[inner[1]] ?? { ok: false, error: `NameError: name '${inner[1]}' is not defined` };
    };
  }
  const str = (value: string): EvalResult => ({ ok: true, value, truthy: value !== "''" });

  it('substitutes str() of each expression, unquoting the string repr', async () => {
    const asked: string[] = [];
    const text = await formatLogMessage('x is {x}, name {name}!', table({ x: str("'42'"), name: str("'Ada'") }, asked));
    assert.equal(text, 'x is 42, name Ada!');
    assert.deepEqual(asked, ['str((\nx\n))', 'str((\nname\n))']);
  });

  it('decodes the escapes of Python string reprs', async () => {
    const values = {
      quote: str('"it\'s"'),
      both: str("'say \"hi\" it\\'s'"),
      lines: str("'a\\nb\\tc\\\\d'"),
      hex: str("'\\x00\\x07\\u20ac\\U0001f600é'"),
    };
    assert.equal(await formatLogMessage('{quote}|{both}|{lines}|{hex}', table(values)), 'it\'s|say "hi" it\'s|a\nb\tc\\d|\x00\x07€😀é');
  });

  it('keeps the cut mark of a truncated value, dropping a half escape before it', async () => {
    assert.equal(await formatLogMessage('{v}', table({ v: str("'abc\\x4...<+9 chars>") })), 'abc...<+9 chars>');
    assert.equal(await formatLogMessage('{v}', table({ v: str("'ab\\ncd...<+9 chars>") })), 'ab\ncd...<+9 chars>');
  });

  it('shows failures in place and carries on', async () => {
    const text = await formatLogMessage('{{ok}} {x} / {y} / {z}', table({ x: str("'1'"), z: { ok: false, error: 'not allowed in a debugger expression: calls to open' } }));
    assert.equal(text, "{ok} 1 / <error: NameError: name 'y' is not defined> / <error: not allowed in a debugger expression: calls to open>");
  });

  it('turns a rejecting evaluator into an error in the text', async () => {
    const text = await formatLogMessage('a {x} b', () => Promise.reject(new Error('gone')));
    assert.equal(text, 'a <error: gone> b');
  });

  it('passes a trailing comment in an expression on without breaking the wrapper', async () => {
    const asked: string[] = [];
    await formatLogMessage('{x # note}', table({ 'x # note': str("'1'") }, asked));
    assert.deepEqual(asked, ['str((\nx # note\n))']);
  });

  it('leaves a template without expressions as it is, asking nothing', async () => {
    const asked: string[] = [];
    assert.equal(await formatLogMessage('just {{text}} and {', table({}, asked)), 'just {text} and {');
    assert.deepEqual(asked, []);
  });
});
