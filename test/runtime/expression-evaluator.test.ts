/** Debugger expressions over repr locals, by a real Python helper that runs nothing of the program. */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { formatLogMessage } from '../../src/runtime/breakpoint-text';
import { EvalResult, ExpressionEvaluator } from '../../src/runtime/expression-evaluator';
import type { Locals } from '../../src/trace/frame';
import { defaultPython, oldInterpreters, tempDir, testInterpreters } from '../helpers/env';
import { isAlive, waitFor } from '../helpers/trace';

const LOCALS: Locals = [
  ['i', '5'],
  ['s', "'abc'"],
  ['xs', "['a', 'b', 'c']"],
  ['nums', '[3, 1, 2]'],
  ['d', "{'k': 1, 'j': [2, 3]}"],
  ['nested', "{'rows': [(1, 'x'), (2, 'y')], 'meta': {'ok': True}}"],
  ['nothing', 'None'],
  ['flag', 'True'],
  ['f', '2.5'],
];

function value(result: EvalResult): string {
  assert.ok(result.ok, `expected a value, got error: ${result.ok ? '' : result.error}`);
  return result.value;
}

function error(result: EvalResult): string {
  assert.ok(!result.ok, `expected an error, got value ${result.ok ? result.value : ''}`);
  return result.error;
}

describe('expression evaluator', () => {
  const evaluator = new ExpressionEvaluator({ python: defaultPython() });
  after(() => evaluator.dispose());
  const run = (expression: string, locals: Locals = LOCALS): Promise<EvalResult> => evaluator.evaluate(expression, locals);

  it('evaluates conditions over literal locals: ints, strings, lists, dicts, nesting, None, True', async () => {
    assert.deepEqual(await run("i > 3 and xs[0] == 'a'"), { ok: true, value: 'True', truthy: true });
    assert.deepEqual(await run('i > 5'), { ok: true, value: 'False', truthy: false });
    assert.equal(value(await run("s == 'abc' and 'b' in s")), 'True');
    assert.equal(value(await run("d['j'][1]")), '3');
    assert.equal(value(await run("nested['rows'][1][1]")), "'y'");
    assert.equal(value(await run("nested['meta']['ok'] is True")), 'True');
    assert.equal(value(await run('nothing is None and flag')), 'True');
    assert.equal(value(await run('nothing is not None')), 'False');
    assert.equal(value(await run('1 < i <= 5 != 4')), 'True');
    assert.equal(value(await run("'z' not in xs")), 'True');
    assert.equal(value(await run("xs[1:] if flag else xs")), "['b', 'c']");
    assert.equal(value(await run('nums[::-1]')), '[2, 1, 3]');
  });

  it('reports truthiness separately from the repr', async () => {
    assert.deepEqual(await run('xs[:0]'), { ok: true, value: '[]', truthy: false });
    assert.deepEqual(await run('d'), { ok: true, value: "{'k': 1, 'j': [2, 3]}", truthy: true });
    assert.deepEqual(await run('nothing'), { ok: true, value: 'None', truthy: false });
  });

  it('does arithmetic and string formatting', async () => {
    assert.equal(value(await run('i * 2 + 1')), '11');
    assert.equal(value(await run('i // 2, i % 2, i / 2, -i, ~i, 2 ** 10')), '(2, 1, 2.5, -5, -6, 1024)');
    assert.equal(value(await run('f * 2')), '5.0');
    assert.equal(value(await run("'%s-%03d' % (s, i)")), "'abc-005'");
    assert.equal(value(await run("f'{i:03d} {s!r} {f:.2f}'")), '"005 \'abc\' 2.50"');
    assert.equal(value(await run('nums + [4]')), '[3, 1, 2, 4]');
    // Python's precedence: shifts, then &, ^, |.
    assert.equal(value(await run('i & 4 | 2 ^ 1 << 3 >> 1')), '6');
  });

  it('evaluates comprehensions and whitelisted builtins', async () => {
    assert.equal(value(await run('[n * 2 for n in nums if n > 1]')), '[6, 4]');
    assert.equal(value(await run("{k: v for k, v in d.items() if k != 'j'}")), "{'k': 1}");
    assert.equal(value(await run('{n % 2 for n in nums}')), '{0, 1}');
    assert.equal(value(await run('sum(n for n in nums)')), '6');
    assert.equal(value(await run('[(a, b) for a in nums[:2] for b in xs[:1]]')), "[(3, 'a'), (1, 'a')]");
    assert.equal(value(await run('len(xs), max(nums), min(nums), sorted(nums, reverse=True)')), '(3, 3, 1, [3, 2, 1])');
    assert.equal(value(await run('list(zip(nums, xs)), list(enumerate(s))[-1]')), "([(3, 'a'), (1, 'b'), (2, 'c')], (2, 'c'))");
    assert.equal(value(await run("any(x == 'b' for x in xs), all(nums), abs(-i), round(f), ord('a'), chr(98)")), "(True, True, 5, 2, 97, 'b')");
    assert.equal(value(await run("str(i) + repr(s), int('7'), float(i), bool(0), tuple(s), set('aa'), dict(a=1)")), `("5'abc'", 7, 5.0, False, ('a', 'b', 'c'), {'a'}, {'a': 1})`);
    assert.equal(value(await run('list(range(3)), list(reversed(nums))')), '([0, 1, 2], [2, 1, 3])');
    assert.equal(value(await run('max(xs, key=len)')), "'a'");
    assert.equal(value(await run("sorted(['b', 'A', 'c'], key=str.lower), sorted(['j', 'k'], key=['k', 'j'].index), max(nums, key=None)")), "(['A', 'b', 'c'], ['k', 'j'], 3)");
  });

  it('calls side-effect-free methods of str, list, dict and set', async () => {
    assert.equal(value(await run('s.upper().startswith("AB")')), 'True');
    assert.equal(value(await run("', '.join(xs)")), "'a, b, c'");
    assert.equal(value(await run("'a,b'.split(',') + ' x '.strip().split()")), "['a', 'b', 'x']");
    assert.equal(value(await run("d.get('missing', 0), d.get('k'), sorted(d.keys()), xs.index('c'), nums.count(1)")), "(0, 1, ['j', 'k'], 2, 1)");
    assert.equal(value(await run("set(xs).union({'z'}) >= {'a', 'z'}, set(xs).issubset(set('abcd'))")), '(True, True)');
    assert.equal(value(await run("s.replace('b', 'B').find('B'), s.isalpha(), '12'.isdigit()")), '(1, True, True)');
  });

  it('binds reprs that are not literals to opaque values that equal only the same repr', async () => {
    const locals: Locals = [
      ['node', '<Node object at 0x7f3a2c1d0e80>'],
      ['same', '<Node object at 0x7f3a2c1d0e80>'],
      ['other', '<Node object at 0x7f3a2c1d0f10>'],
      ['cut', "'abcdefghij...<+120 chars>"],
      ['cutList', '[1, 2, 3, 4...<+50 chars>'],
    ];
    assert.equal(value(await run('node == node and node == same and node != other', locals)), 'True');
    assert.equal(value(await run('node == other or node is None or node == "<Node object at 0x7f3a2c1d0e80>"', locals)), 'False');
    assert.deepEqual(await run('node', locals), { ok: true, value: '<Node object at 0x7f3a2c1d0e80>', truthy: true });
    assert.equal(value(await run('str(node)', locals)), "'<Node object at 0x7f3a2c1d0e80>'");
    assert.equal(value(await run('{node: 1}[same]', locals)), '1');
    // A truncated repr is not the value it starts like: no length, no items, only itself.
    assert.equal(value(await run('cut == cut and cutList != [1, 2, 3, 4]', locals)), 'True');
    assert.match(error(await run('len(cutList)', locals)), /^TypeError: /);
    assert.match(error(await run('node.value', locals)), /^AttributeError: /);
    assert.match(error(await run('node < other', locals)), /^TypeError: '<' not supported/);
  });

  it('reads reprs that literal_eval does not: inf, nan, set(), complex', async () => {
    const locals: Locals = [['big', 'inf'], ['low', '-inf'], ['empty', 'set()'], ['z', '(1+2j)'], ['n', 'nan'], ['fs', 'frozenset({1, 2})']];
    assert.equal(value(await run('big > 1e308 and low < -1e308 and n != n', locals)), 'True');
    assert.deepEqual(await run('empty', locals), { ok: true, value: 'set()', truthy: false });
    assert.equal(value(await run('z.imag, 2 in fs', locals)), '(2.0, True)');
  });

  it('answers unknown names and syntax errors with Python\'s message', async () => {
    assert.deepEqual(await run('y > 1'), { ok: false, error: "NameError: name 'y' is not defined" });
    assert.match(error(await run('i >')), /^SyntaxError: /);
    assert.match(error(await run('i = 3')), /^SyntaxError: /);
    assert.match(error(await run('import os')), /^SyntaxError: /);
    assert.deepEqual(await run("d['missing']"), { ok: false, error: "KeyError: 'missing'" });
    assert.deepEqual(await run('1 / 0'), { ok: false, error: 'ZeroDivisionError: division by zero' });
    // Builtins outside the whitelist do not exist, even as plain names.
    assert.deepEqual(await run('open'), { ok: false, error: "NameError: name 'open' is not defined" });
  });

  it('refuses calls, names and syntax outside the whitelist before running anything', async () => {
    const refused = async (expression: string, what: string): Promise<void> => {
      assert.deepEqual(await run(expression), { ok: false, error: `not allowed in a debugger expression: ${what}` }, expression);
    };
    await refused("open('x')", 'calls to open');
    await refused("__import__('os')", 'calls to __import__');
    await refused('().__class__', 'the attribute __class__');
    await refused('xs.__class__', 'the attribute __class__');
    await refused("getattr(xs, 'append')", 'calls to getattr');
    await refused('(lambda: 1)()', 'calls to anything but a builtin function or method');
    await refused('lambda: 1', 'lambda');
    await refused('sorted(nums, key=lambda n: -n)', 'key functions other than the whitelisted builtins and methods');
    await refused('[f for f in [lambda n: -n]]', 'lambda');
    await refused('(y := 1)', 'assignment expressions (:=)');
    await refused("xs.append('d')", 'calls to the method append');
    await refused('d.clear()', 'calls to the method clear');
    await refused("'{0.__class__}'.format(s)", 'calls to the method format');
    await refused('print(i)', 'calls to print');
    await refused("eval('1')", 'calls to eval');
    await refused('__builtins__', 'the name __builtins__');
    await refused('s._private', 'the attribute _private');
    await refused('(n for n in nums).gi_frame', 'the attribute gi_frame');
    await refused('[*xs]', '* unpacking');
    await refused('len(*xs)', '* unpacking');
    await refused('{**d}', '** unpacking');
    await refused('dict(**d)', '** unpacking');
    await refused('[1 for xs[0] in [[2]]]', 'assigning to an item');
    await refused('xs[0]()', 'calls to anything but a builtin function or method');
    // A key function is called on every item: it must be as harmless as a call would have to be.
    await refused('sorted(nums, key=nums.append)', 'key functions other than the whitelisted builtins and methods');
    await refused('max(nums, key=xs[0])', 'key functions other than the whitelisted builtins and methods');
    await refused("[str(s) for str in ['{0.__class__}'.format]]", 'a comprehension variable named str');
    await refused('[len(1) for len in [nums.append]]', 'a comprehension variable named len');
  });

  it('never runs code with side effects: a refused open() creates no file', async () => {
    const file = path.join(tempDir('nd-eval-'), 'created');
    assert.equal(error(await run(`open(${JSON.stringify(file)}, 'w')`)), 'not allowed in a debugger expression: calls to open');
    assert.equal(fs.existsSync(file), false);
  });

  it('ignores dunder locals, which could otherwise replace the builtins', async () => {
    assert.equal(value(await run('len(xs)', [['__builtins__', "{'len': 1}"], ['xs', '[1, 2]']])), '2');
  });

  it('truncates long results like the tracer does', async () => {
    const long = value(await run("'x' * 5000"));
    assert.equal(long, `'${'x'.repeat(999)}...<+4002 chars>`);
  });

  it('handles unicode values and names', async () => {
    const locals: Locals = [['s', "'café ☕'"], ['café', '41'], ['e', "'😀'"]];
    assert.equal(value(await run("s == 'café ☕' and len(s) == 6 and len(e) == 1", locals)), 'True');
    assert.equal(value(await run('s.upper(), café + 1, e', locals)), "('CAFÉ ☕', 42, '😀')");
  });

  it('fills log message templates as an f-string would', async () => {
    const template = "i={i} s={s} xs={xs} q={'it\\'s \"x\"'} u={'café\\n' + chr(0x1f600)} c={i # note} {{b}} {y}";
    assert.equal(
      await formatLogMessage(template, (expression) => run(expression)),
      `i=5 s=abc xs=['a', 'b', 'c'] q=it's "x" u=café\n😀 c=5 {b} <error: NameError: name 'y' is not defined>`,
    );
  });

  it('answers concurrent requests, each with its own locals, in order', async () => {
    const results = await Promise.all(Array.from({ length: 40 }, (_, n) => run('n * 2 if n % 3 else missing', [['n', String(n)]])));
    results.forEach((result, n) => {
      if (n % 3 === 0) assert.deepEqual(result, { ok: false, error: "NameError: name 'missing' is not defined" });
      else assert.deepEqual(result, { ok: true, value: String(n * 2), truthy: true });
    });
  });

  it('keeps one helper process across requests', async () => {
    await run('1');
    const pid = evaluator.pid;
    assert.ok(pid !== undefined && isAlive(pid));
    await run('2');
    assert.equal(evaluator.pid, pid);
  });

  it('fails on too much memory instead of eating it, and carries on', { skip: process.platform !== 'linux' }, async () => {
    assert.deepEqual(await run("'a' * 10**10"), { ok: false, error: 'MemoryError' });
    assert.equal(value(await run('i + 1')), '6');
  });
});

describe('expression evaluator limits and lifetime', () => {
  it('kills a request that overruns its time, answers it, and restarts for the next', async () => {
    const evaluator = new ExpressionEvaluator({ python: defaultPython() });
    try {
      assert.equal(value(await evaluator.evaluate('1 + 1', [])), '2');
      const first = evaluator.pid;
      assert.ok(first !== undefined);
      const started = Date.now();
      const [slow, queued] = await Promise.all([
        evaluator.evaluate('sum(range(10**12))', []),
        evaluator.evaluate('x * 3', [['x', '14']]),
      ]);
      assert.deepEqual(slow, { ok: false, error: 'the expression took longer than 1 s' });
      assert.ok(Date.now() - started < 5000);
      // The request queued behind it was not charged for the wait, nor lost with the killed helper.
      assert.deepEqual(queued, { ok: true, value: '42', truthy: true });
      assert.ok(await waitFor(() => !isAlive(first), 3000), 'the overrunning helper is gone');
      assert.notEqual(evaluator.pid, first);
    } finally {
      evaluator.dispose();
    }
  });

  it('takes its time limit from the options', async () => {
    const evaluator = new ExpressionEvaluator({ python: defaultPython(), timeoutMs: 300 });
    try {
      await evaluator.evaluate('0', []); // the start of Python is not counted
      const started = Date.now();
      assert.deepEqual(await evaluator.evaluate('sum(range(10**12))', []), { ok: false, error: 'the expression took longer than 0.3 s' });
      assert.ok(Date.now() - started < 2000);
      assert.equal(value(await evaluator.evaluate('"ok"', [])), "'ok'");
    } finally {
      evaluator.dispose();
    }
  });

  it('dispose kills the helper and answers pending and later requests', async () => {
    const evaluator = new ExpressionEvaluator({ python: defaultPython() });
    assert.equal(value(await evaluator.evaluate('1', [])), '1');
    const pid = evaluator.pid;
    assert.ok(pid !== undefined && isAlive(pid));
    const pending = evaluator.evaluate('sum(range(10**12))', []);
    evaluator.dispose();
    assert.deepEqual(await pending, { ok: false, error: 'the evaluator was closed' });
    assert.ok(await waitFor(() => !isAlive(pid), 3000), `helper ${pid} still alive after dispose`);
    assert.deepEqual(await evaluator.evaluate('1', []), { ok: false, error: 'the evaluator was closed' });
    assert.equal(evaluator.pid, undefined);
  });

  it('a missing Python is an answer, not an exception, and is not retried', async () => {
    const evaluator = new ExpressionEvaluator({ python: '/nonexistent/python3' });
    try {
      const results = await Promise.all([evaluator.evaluate('1', []), evaluator.evaluate('2', [])]);
      for (const result of results) {
        assert.match(error(result), /^cannot evaluate expressions: Python "\/nonexistent\/python3" was not found/);
      }
      assert.deepEqual(await evaluator.evaluate('3', []), results[0]);
      assert.equal(evaluator.pid, undefined);
    } finally {
      evaluator.dispose();
    }
  });

  it('a helper script that cannot start is reported once and not restarted forever', async () => {
    const evaluator = new ExpressionEvaluator({ python: defaultPython(), script: '/nonexistent/eval_expr.py' });
    try {
      assert.match(error(await evaluator.evaluate('1', [])), /^cannot evaluate expressions: the Python helper did not start \(exit code 1\)/);
      assert.match(error(await evaluator.evaluate('1', [])), /did not start/);
      assert.equal(evaluator.pid, undefined);
    } finally {
      evaluator.dispose();
    }
  });

  it('a helper that dies on a request answers that request and restarts for the next', async () => {
    // A stand-in helper that speaks the protocol and crashes on demand.
    const script = path.join(tempDir('nd-eval-'), 'crashy.py');
    fs.writeFileSync(script, [
      'import json, os, sys',
      'print(json.dumps({"ready": True}), flush=True)',
      'for line in sys.stdin:',
      '    request = json.loads(line)',
      '    if request["expr"] == "crash":',
      '        sys.stderr.write("boom\\n"); sys.stderr.flush(); os._exit(3)',
      '    print(json.dumps({"id": request["id"], "ok": True, "value": str(os.getpid()), "truthy": True}), flush=True)',
      '',
    ].join('\n'));
    const evaluator = new ExpressionEvaluator({ python: defaultPython(), script });
    try {
      const before = value(await evaluator.evaluate('pid', []));
      const [crashed, next] = await Promise.all([evaluator.evaluate('crash', []), evaluator.evaluate('pid', [])]);
      assert.deepEqual(crashed, { ok: false, error: 'the expression evaluator stopped (exit code 3): boom' });
      assert.notEqual(value(next), before);
    } finally {
      evaluator.dispose();
    }
  });

  for (const { version, path: python } of oldInterpreters().filter((i) => i.version.startsWith('3.'))) {
    it(`says that Python ${version} is too old`, async () => {
      const evaluator = new ExpressionEvaluator({ python });
      try {
        assert.match(error(await evaluator.evaluate('1', [])), /^cannot evaluate expressions: .*needs Python 3\.8 or newer/);
      } finally {
        evaluator.dispose();
      }
    });
  }

  it('does not keep Node running once the answers are in', async () => {
    const module = path.join(__dirname, '..', '..', 'src', 'runtime', 'expression-evaluator.js');
    const program = `
      const { ExpressionEvaluator } = require(${JSON.stringify(module)});
      const evaluator = new ExpressionEvaluator({ python: ${JSON.stringify(defaultPython())} });
      evaluator.evaluate('6 * 7', []).then((r) => console.log(JSON.stringify(r)));`;
    const started = Date.now();
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['-e', program], { timeout: 10_000 }, (failure, out) => (failure ? reject(failure) : resolve(out)));
    });
    assert.deepEqual(JSON.parse(stdout), { ok: true, value: '42', truthy: true });
    assert.ok(Date.now() - started < 8000);
  });
});

// The syntax tree differs across versions (3.8 wraps subscripts in Index, 3.12 inlines comprehensions).
for (const { version, path: python } of testInterpreters()) {
  describe(`expression evaluator on Python ${version}`, () => {
    const evaluator = new ExpressionEvaluator({ python });
    after(() => evaluator.dispose());

    it('evaluates and refuses the same way', async () => {
      const check = async (expression: string, expected: EvalResult): Promise<void> => {
        assert.deepEqual(await evaluator.evaluate(expression, LOCALS), expected, expression);
      };
      await check("i > 3 and xs[0] == 'a'", { ok: true, value: 'True', truthy: true });
      await check("nested['rows'][0][1:], d['j'][-1]", { ok: true, value: "(('x',), 3)", truthy: true });
      await check('[n for n in nums if n > 1], {n: n for n in nums[:1]}', { ok: true, value: '([3, 2], {3: 3})', truthy: true });
      await check("f'{s}-{i:02d}'", { ok: true, value: "'abc-05'", truthy: true });
      await check("', '.join(sorted(xs, reverse=True))", { ok: true, value: "'c, b, a'", truthy: true });
      await check("open('x')", { ok: false, error: 'not allowed in a debugger expression: calls to open' });
      await check('().__class__', { ok: false, error: 'not allowed in a debugger expression: the attribute __class__' });
      await check('y', { ok: false, error: "NameError: name 'y' is not defined" });
    });
  });
}
