/** buildPromptProgram: the SOURCE of CWM's prompt and the call the tracer makes, in each shape. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPromptProgram, PromptError, promptText, toFileLine } from '../../src/trace';

function assertPromptError(run: () => unknown, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof PromptError, `expected a PromptError, got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

describe('wrapper shape', () => {
  test('exact text: user text, one blank line, the marked main, the call', () => {
    const user = 'def f(x, y):\n    return x + y\n';
    assert.deepEqual(buildPromptProgram(user, { entry: 'f', args: '1, [2]' }), {
      shape: 'wrapper',
      source: 'def f(x, y):\n    return x + y\n\ndef main():  # << START_OF_TRACE\n    return f(1, [2])\n',
      call: { function: 'main', args: '' },
      moduleName: '__cwm_program__',
      lineOffset: 0,
      userLineCount: 2,
    });
  });

  test('trailing blank lines become exactly one; a missing final newline and CRLF are normalized', () => {
    const program = buildPromptProgram('def f():\r\n    return 1\r\n\r\n\r\n   \r\n', { entry: ' f ', args: '  ' });
    assert.equal(program.source, 'def f():\n    return 1\n\ndef main():  # << START_OF_TRACE\n    return f()\n');
    assert.equal(program.userLineCount, 2);
    assert.equal(buildPromptProgram('def f():\n    return 1', { entry: 'f' }).source, 'def f():\n    return 1\n\ndef main():  # << START_OF_TRACE\n    return f()\n');
  });

  test('an existing marker elsewhere is removed, so that only main carries one', () => {
    const user = 'def g():  # << START_OF_TRACE\n    return 2\n\ndef f():\n    return g()\n';
    const program = buildPromptProgram(user, { entry: 'f' });
    assert.equal(program.shape, 'wrapper');
    assert.equal(program.source, 'def g():\n    return 2\n\ndef f():\n    return g()\n\ndef main():  # << START_OF_TRACE\n    return f()\n');
    assert.equal(program.source.split('START_OF_TRACE').length, 2);
  });

  test('line mapping: user lines map to themselves, the wrapper lines to nothing', () => {
    const program = buildPromptProgram('def f(x):\n    return x\n', { entry: 'f', args: '1' });
    assert.equal(toFileLine(program, 1), 1);
    assert.equal(toFileLine(program, 2), 2);
    assert.equal(toFileLine(program, 3), undefined);
    assert.equal(toFileLine(program, 4), undefined);
    assert.equal(toFileLine(program, 0), undefined);
  });

  test('promptText wraps the source in the prompt tokens', () => {
    const program = buildPromptProgram('def f(x):\n    return x\n', { entry: 'f', args: '1' });
    assert.equal(promptText(program.source), '<|begin_of_text|><|trace_context_start|>' + program.source + '<|frame_sep|>');
  });
});

describe('marked shape', () => {
  test('an existing marker and no entry: the marked function, source unchanged', () => {
    const user = 'def helper(x):\n    return x * 2\n\ndef solve(n):  # << START_OF_TRACE\n    return helper(n)\n';
    assert.deepEqual(buildPromptProgram(user, { args: '21' }), {
      shape: 'marked',
      source: user,
      call: { function: 'solve', args: '21' },
      moduleName: '__cwm_program__',
      lineOffset: 0,
      userLineCount: 5,
    });
  });

  test('entry main: main itself is marked (a wrapper named main would shadow it)', () => {
    const user = 'def helper():\n    return 1\n\ndef main():\n    return helper()\n';
    const program = buildPromptProgram(user, { entry: 'main' });
    assert.equal(program.shape, 'marked');
    assert.equal(program.source, 'def helper():\n    return 1\n\ndef main():  # << START_OF_TRACE\n    return helper()\n');
    assert.deepEqual(program.call, { function: 'main', args: '' });
    assert.equal(toFileLine(program, 4), 4);
  });

  test('entry main that already carries the marker keeps exactly one', () => {
    const user = 'def main():  #<< START_OF_TRACE\n    return 1\n';
    const program = buildPromptProgram(user, { entry: 'main' });
    assert.equal(program.source, 'def main():  # << START_OF_TRACE\n    return 1\n');
  });

  test('a program that defines its own main: the entry is marked, main is left alone', () => {
    const user = 'def f(a):\n    return a + 1\n\ndef main():  # << START_OF_TRACE\n    print(f(1))\n';
    assert.deepEqual(buildPromptProgram(user, { entry: 'f', args: '41' }), {
      shape: 'marked',
      source: 'def f(a):  # << START_OF_TRACE\n    return a + 1\n\ndef main():\n    print(f(1))\n',
      call: { function: 'f', args: '41' },
      moduleName: '__cwm_program__',
      lineOffset: 0,
      userLineCount: 5,
    });
  });
});

describe('script shape', () => {
  test('a script is indented by 4 into a marked main; lines inside triple-quoted strings are kept', () => {
    const user = ['x = 1', 's = """first', '  kept as is', 'last"""', '', 'if x:', '    print(s)', '', ''].join('\n');
    assert.deepEqual(buildPromptProgram(user, {}), {
      shape: 'script',
      source: ['def main():  # << START_OF_TRACE', '    x = 1', '    s = """first', '  kept as is', 'last"""', '', '    if x:', '        print(s)', ''].join('\n'),
      call: { function: 'main', args: '' },
      moduleName: '__main__',
      lineOffset: 1,
      userLineCount: 7,
    });
  });

  test('bracket and backslash continuation lines are kept too', () => {
    const user = 'total = sum([\n1,\n2])\ny = 1 + \\\n2\n';
    const program = buildPromptProgram(user, {});
    assert.equal(program.source, 'def main():  # << START_OF_TRACE\n    total = sum([\n1,\n2])\n    y = 1 + \\\n2\n');
  });

  test('line mapping is shifted by the one line of the wrapper', () => {
    const program = buildPromptProgram('a = 1\nb = 2\n', {});
    assert.equal(program.lineOffset, 1);
    assert.equal(toFileLine(program, 1), undefined);
    assert.equal(toFileLine(program, 2), 1);
    assert.equal(toFileLine(program, 3), 2);
    assert.equal(toFileLine(program, 4), undefined);
  });

  test('a def inside a string does not stop a script from being a script', () => {
    const program = buildPromptProgram('code = """\ndef f(): pass\n"""\nprint(code)\n', {});
    assert.equal(program.shape, 'script');
    assert.equal(program.source, 'def main():  # << START_OF_TRACE\n    code = """\ndef f(): pass\n"""\n    print(code)\n');
  });
});

describe('PromptError', () => {
  const TWO = 'def f():\n    return 1\n\ndef g():\n    return 2\n';

  test('an unknown entry names the functions there are', () => {
    assertPromptError(() => buildPromptProgram(TWO, { entry: 'h' }), /no top-level function named "h".*f, g/);
    assertPromptError(() => buildPromptProgram('x = 1\n', { entry: 'h' }), /defines no function/);
  });

  test('a nested function or a method is not an entry', () => {
    const user = 'def outer():\n    def inner():\n        return 1\n    return inner()\n\nclass K:\n    def m(self):\n        return 2\n';
    assertPromptError(() => buildPromptProgram(user, { entry: 'inner' }), /no top-level function named "inner"/);
    assertPromptError(() => buildPromptProgram(user, { entry: 'm' }), /no top-level function named "m"/);
  });

  test('a bad entry name', () => {
    for (const entry of ['f(x)', '1f', 'a.b', 'f g', 'f-g']) {
      assertPromptError(() => buildPromptProgram(TWO, { entry }), /is not a function name/);
    }
  });

  test('two markers and no entry', () => {
    const user = 'def f():  # << START_OF_TRACE\n    return 1\n\ndef g():  # << START_OF_TRACE\n    return 2\n';
    assertPromptError(() => buildPromptProgram(user, {}), /2 functions carry .*lines 1, 4/);
  });

  test('two markers are fine when the entry is named', () => {
    const user = 'def f():  # << START_OF_TRACE\n    return 1\n\ndef g():  # << START_OF_TRACE\n    return 2\n';
    assert.equal(buildPromptProgram(user, { entry: 'g' }).source.split('START_OF_TRACE').length, 2);
  });

  test('a marker on a nested function', () => {
    const user = 'def outer():\n    def inner():  # << START_OF_TRACE\n        return 1\n    return inner()\n';
    assertPromptError(() => buildPromptProgram(user, {}), /"inner" \(line 2\) is not at the top level/);
  });

  test('functions but no entry and no marker', () => {
    assertPromptError(() => buildPromptProgram(TWO, {}), /name the function to trace.*defines f, g/);
    assertPromptError(() => buildPromptProgram('class K:\n    x = 1\n', {}), /name the function to trace/);
  });

  test('an empty program', () => {
    assertPromptError(() => buildPromptProgram('', {}), /no code to trace/);
    assertPromptError(() => buildPromptProgram('\n\n   \n', {}), /no code to trace/);
    assertPromptError(() => buildPromptProgram('# only a comment\n\n  # another\n', {}), /no code to trace/);
  });

  test('arguments given to a script', () => {
    assertPromptError(() => buildPromptProgram('x = 1\n', { args: '1, 2' }), /takes no arguments/);
  });

  test('PromptError is an Error', () => {
    assert.throws(() => buildPromptProgram('', {}), Error);
  });
});
