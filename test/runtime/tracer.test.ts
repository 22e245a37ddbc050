/** The real tracer, on every Python from 3.8 to 3.13 that this machine has. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { encodeTrace } from '../../src/trace/encoder';
import { lookupLocal } from '../../src/trace/frame';
import { parseTrace } from '../../src/trace/parser';
import { toFileLine, buildPromptProgram } from '../../src/trace/prompt';
import { EXAMPLES, GOLDEN, oldInterpreters, PROGRAMS, tempDir, testInterpreters } from '../helpers/env';
import { isAlive, startFixture, summarize, traceFixture, waitFor } from '../helpers/trace';

const interpreters = testInterpreters();
console.log(`tracer suites run on: ${interpreters.map((i) => i.version).join(', ')}`);

for (const { version, path: python } of interpreters) {
  describe(`tracer on Python ${version}`, () => {
    it('reproduces the worked example of the format doc byte for byte', async () => {
      const result = await traceFixture(path.join(EXAMPLES, 'sum_list.py'), {}, { python });
      assert.equal(result.end.reason, 'returned');
      assert.equal(encodeTrace(result.frames, true), fs.readFileSync(path.join(GOLDEN, 'sum_list.raw.txt'), 'utf8'));
    });

    it('emits exceptions where raised and while unwinding, in CPython order', async () => {
      const result = await traceFixture('exceptions.py', { entry: 'catcher' }, { python });
      assert.equal(result.end.reason, 'returned');
      assert.deepEqual(summarize(result), [
        'call main 17 {}',
        'line main 18 {}',
        'call catcher 6 {}',
        'line catcher 7 {}',
        'line catcher 8 {}',
        'call boom 1 {n=1}',
        'line boom 2 {n=1}',
        'line boom 4 {n=1}',
        'call boom 1 {n=0}',
        'line boom 2 {n=0}',
        'line boom 3 {n=0}',
        "exception boom 3 -> ValueError('zero')",
        'return boom 3 -> None (unwinding)',
        "exception boom 4 -> ValueError('zero')",
        'return boom 4 -> None (unwinding)',
        "exception catcher 8 -> ValueError('zero')",
        'line catcher 9 {}',
        "line catcher 10 {e=ValueError('zero')}",
        // Python deletes the `except ... as e` name when the handler ends.
        "line catcher 11 {r='zero'}",
        "return catcher 11 -> 'zero'",
        "return main 18 -> 'zero'",
      ]);
      assert.equal(result.frames[11].origin.exceptionType, 'ValueError');
    });

    it('ends with "raised" when an exception leaves the entry function, and the text parses back', async () => {
      const result = await traceFixture('exceptions.py', { entry: 'uncaught', args: '1' }, { python });
      assert.equal(result.end.reason, 'raised');
      assert.match(result.end.message, /ValueError: zero/);
      const last = result.frames[result.frames.length - 1];
      assert.equal(last.event, 'return');
      assert.equal(last.origin.functionName, 'main');
      assert.equal(last.origin.unwinding, true);
      const parsed = parseTrace(encodeTrace(result.frames, true));
      assert.deepEqual(parsed.errors, []);
      assert.deepEqual(parsed.frames, result.frames.map(({ origin: _origin, ...frame }) => frame));
    });

    it('stops `while True: pass` at the step limit and keeps the partial trace', async () => {
      const result = await traceFixture('limits.py', { entry: 'spin' }, { python, limits: { maxSteps: 500 } });
      assert.equal(result.end.reason, 'max-steps');
      assert.match(result.end.message, /step limit \(500 steps\)/);
      assert.equal(result.frames.length, 500);
      assert.deepEqual(parseTrace(encodeTrace(result.frames, false)).errors, []);
    });

    it('stops a program that prints without end at the output cap', async () => {
      const result = await traceFixture('limits.py', { entry: 'chatter' }, { python, limits: { maxOutputBytes: 10_000, maxSteps: 1_000_000 } });
      assert.equal(result.end.reason, 'max-output');
      assert.match(result.end.message, /output limit \(10000 bytes\)/);
      const printed = result.output.filter((o) => o.stream === 'stdout').map((o) => o.text).join('');
      assert.equal(Buffer.byteLength(printed), 10_000);
      assert.ok(printed.startsWith('line 0\nline 1\n'));
    });

    it('lets the program close its stdout as a real stream: closed, and later writes fail', async () => {
      const file = path.join(tempDir('close-stdout-'), 'close_stdout.py');
      fs.writeFileSync(file, 'import sys\n\n\ndef f():\n    print("before")\n    sys.stdout.close()\n    closed = sys.stdout.closed\n    try:\n        print("after")\n    except ValueError as error:\n        return (closed, str(error))\n');
      const result = await traceFixture(file, { entry: 'f' }, { python });
      assert.equal(result.end.reason, 'returned', result.end.traceback ?? result.end.message);
      const last = result.frames[result.frames.length - 1];
      assert.equal('value' in last ? last.value : undefined, "(True, 'I/O operation on closed file.')");
      assert.equal(result.output.filter((o) => o.stream === 'stdout').map((o) => o.text).join(''), 'before\n');
    });

    it('a call that cannot bind its arguments is an error with the reason, not a program that raised', async () => {
      const file = path.join(tempDir('unbound-'), 'fact.py');
      fs.writeFileSync(file, 'def fact(n):  # << START_OF_TRACE\n    return 1 if n < 2 else n * fact(n - 1)\n');
      const none = await traceFixture(file, {}, { python });
      assert.equal(none.end.reason, 'error');
      assert.equal(none.frames.length, 0);
      assert.match(none.end.message, /^fact cannot be called with no arguments: missing a required argument: 'n'$/);
      const extra = await traceFixture(file, { args: '1, 2' }, { python });
      assert.match(extra.end.message, /^fact cannot be called with the arguments '1, 2': too many positional arguments$/);
      assert.equal((await traceFixture(file, { args: '4' }, { python })).end.reason, 'returned');
    });

    it('keeps tracing when the program switches tracing off, and says so', async () => {
      const file = path.join(tempDir('settrace-'), 'untrace.py');
      fs.writeFileSync(file, 'import sys\n\n\ndef f():\n    sys.settrace(None)\n    x = 1\n    x = 2\n    return x\n');
      const result = await traceFixture(file, { entry: 'f' }, { python });
      assert.equal(result.end.reason, 'returned');
      assert.deepEqual(summarize(result).slice(-4), ['line f 7 {x=1}', 'line f 8 {x=2}', 'return f 8 -> 2', 'return main 11 -> 2']);
      assert.match(result.output.map((o) => o.text).join(''), /the program called sys\.settrace\(None\); the tracer kept tracing/);
    });

    it('stops a runaway recursion cleanly at the depth limit', async () => {
      const result = await traceFixture('limits.py', { entry: 'dive', args: '0' }, { python, limits: { maxDepth: 50 } });
      assert.equal(result.end.reason, 'max-depth');
      assert.match(result.end.message, /recursion depth limit \(50 nested calls\)/);
      assert.equal(Math.max(...result.frames.map((f) => f.origin.depth)), 50);
    });

    it('stops a sleeping program at the time limit', async () => {
      const result = await traceFixture('limits.py', { entry: 'nap' }, { python, limits: { timeoutSeconds: 0.5 } });
      assert.equal(result.end.reason, 'timeout');
      assert.ok(result.frames.length >= 2, 'the frames before the sleep are kept');
    });

    it('stops a program stuck inside one C call, from the outside', async () => {
      const result = await traceFixture('limits.py', { entry: 'grind' }, { python, limits: { timeoutSeconds: 0.3 } });
      assert.equal(result.end.reason, 'timeout');
    });

    it("keeps the program's output beside the trace, tagged with the step that wrote it", async () => {
      const result = await traceFixture('output.py', { entry: 'talk' }, { python });
      assert.equal(result.end.reason, 'returned');
      const stepOf = (text: string): number => {
        const found = result.output.find((o) => o.text.includes(text));
        assert.ok(found, `output ${JSON.stringify(text)} missing`);
        return found.step;
      };
      const lineStep = (source: string): number => result.frames.findIndex((f) => f.event === 'line' && f.source.trim().startsWith(source));
      assert.equal(stepOf('first'), lineStep('print("first"'));
      assert.equal(stepOf('second'), lineStep('print("second"'));
      assert.equal(result.output.find((o) => o.text.includes('to stderr'))?.stream, 'stderr');
      assert.equal(result.output.find((o) => o.text.includes('raw bytes'))?.stream, 'raw');
      assert.ok(result.frames.every((f) => !('locals' in f) || f.locals.every(([, repr]) => !repr.includes('first'))));
    });

    it('writes any value safely: long reprs cut visibly, failing reprs named, non-ASCII kept', async () => {
      const result = await traceFixture('values.py', { entry: 'values' }, { python, limits: { maxReprLength: 100 } });
      assert.equal(result.end.reason, 'returned');
      const last = result.frames.filter((f) => f.event === 'line').pop();
      assert.ok(last && last.event === 'line');
      const big = lookupLocal(last.locals, 'big') ?? '';
      assert.equal(big.length, 100 + '...<+'.length + String(list5000Length() - 100).length + ' chars>'.length);
      assert.ok(big.startsWith('[0, 1, 2, '));
      assert.ok(big.endsWith(`...<+${list5000Length() - 100} chars>`));
      assert.equal(lookupLocal(last.locals, 'loud'), '<repr failed: RuntimeError>');
      assert.equal(lookupLocal(last.locals, 'text'), `'h\u00e9llo \u2603 \u{1F600} "quoted" \\\\ back'`);
      assert.match(lookupLocal(last.locals, 'node') ?? '', /^<__cwm_program__\.Node object at 0x[0-9a-f]+>$/);
      const text = encodeTrace(result.frames, true);
      assert.ok(/^[\x00-\x7f]*$/.test(text.replace(/def values|big|text/g, '')), 'the CWM text is ASCII: non-ASCII is escaped');
      assert.deepEqual(parseTrace(text).frames, result.frames.map(({ origin: _origin, ...frame }) => frame));
    });

    it('traces a marked function called with arguments (the demo shape)', async () => {
      const result = await traceFixture('shapes.py', { args: '2, b=3' }, { python });
      assert.deepEqual(summarize(result), ['call add 1 {a=2, b=3}', 'line add 2 {a=2, b=3}', 'line add 3 {a=2, b=3, c=5}', 'return add 3 -> 5']);
      assert.equal(result.frames[0].source, 'def add(a, b):  # << START_OF_TRACE');
    });

    it('traces a plain script as the body of a marked main, lines mapped back to the file', async () => {
      const source = fs.readFileSync(path.join(PROGRAMS, 'script.py'), 'utf8');
      const program = buildPromptProgram(source, {});
      const result = await traceFixture('script.py', {}, { python });
      assert.equal(result.end.reason, 'returned');
      assert.equal(result.frames[0].source, 'def main():  # << START_OF_TRACE');
      const fileLines = source.split('\n');
      for (const frame of result.frames.slice(1)) {
        const line = toFileLine(program, frame.origin.line);
        assert.ok(line !== undefined);
        assert.equal(frame.source, '    ' + fileLines[line - 1], `line ${line}`);
      }
      const end = result.frames[result.frames.length - 2];
      assert.ok(end.event === 'line');
      assert.equal(lookupLocal(end.locals, 'doc'), "'kept\\nas is'");
      assert.equal(lookupLocal(end.locals, 'total'), '6');
      assert.deepEqual(result.output.map((o) => o.text).join(''), 'total 6\n');
    });

    it('steps into functions and lambdas of the program, not into comprehensions, other modules or the stdlib', async () => {
      const result = await traceFixture('calls.py', { entry: 'uses_all', args: '[1, -3, 2]' }, { python });
      assert.equal(result.end.reason, 'returned');
      const called = new Set(result.frames.filter((f) => f.event === 'call').map((f) => f.origin.functionName));
      assert.deepEqual([...called].sort(), ['<lambda>', 'gen', 'main', 'uses_all']);
      const last = result.frames[result.frames.length - 1];
      // max([1, -3, 2], key=square) is -3; twice(-3) + 3 + 2
      assert.ok(last.event === 'return' && last.value === '-1', JSON.stringify(last));
      const user = await traceFixture('calls.py', { entry: 'uses_all', args: '[1, -3, 2]' }, { python, scope: 'user' });
      const twice = user.frames.find((f) => f.event === 'call' && f.origin.functionName === 'twice');
      assert.ok(twice, 'scope "user" steps into the helper module');
      assert.equal(twice.origin.file, path.join(PROGRAMS, 'helper_mod.py'));
      assert.equal(twice.source, 'def twice(v):');
      assert.ok(user.frames.every((f) => f.origin.file === undefined || !f.origin.file.includes('python3.')), 'nothing of the stdlib');
    });

    it('reports a program that does not compile, or fails while loading, or bad arguments', async () => {
      const broken = await traceFixture('broken.py', { entry: 'f', args: '1' }, { python });
      assert.equal(broken.end.reason, 'error');
      assert.match(broken.end.message, /does not compile: .*line 2/);
      const loads = await traceFixture('loads_badly.py', { entry: 'f', args: '1' }, { python });
      assert.equal(loads.end.reason, 'error');
      assert.match(loads.end.message, /while it was being loaded.*RuntimeError: fails at import/);
      const args = await traceFixture('shapes.py', { args: '1, (' }, { python });
      assert.equal(args.end.reason, 'error');
      assert.match(args.end.message, /arguments .* cannot be evaluated: SyntaxError/);
      for (const result of [broken, loads, args]) assert.equal(result.frames.length, 0);
    });

    it('streams frames while the program is still running', async () => {
      const marker = path.join(tempDir('nd-stream-'), 'finished');
      let firstFrameWhileRunning: boolean | undefined;
      let count = 0;
      const run = startFixture('long_loop.py', { entry: 'loop', args: `50000, ${JSON.stringify(marker)}` }, { python, limits: { maxSteps: 200_000, timeoutSeconds: 120 } }, {
        frame: () => {
          if (count++ === 0) firstFrameWhileRunning = !fs.existsSync(marker);
        },
      });
      const result = await run.done;
      assert.equal(result.end.reason, 'returned');
      assert.ok(result.frames.length > 100_000, `${result.frames.length} frames`);
      assert.equal(count, result.frames.length);
      assert.equal(firstFrameWhileRunning, true, 'the first frame arrived before the loop finished');
    });

    it('kills the program and its child processes on stop', async () => {
      const pidFile = path.join(tempDir('nd-stop-'), 'pid');
      const run = startFixture('children.py', { entry: 'spawn_and_wait', args: JSON.stringify(pidFile) }, { python });
      assert.ok(await waitFor(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8') !== '', 10_000), 'the program started its child');
      const grandchild = Number(fs.readFileSync(pidFile, 'utf8'));
      const pid = run.pid;
      assert.ok(pid !== undefined && isAlive(pid) && isAlive(grandchild));
      run.stop();
      const result = await run.done;
      assert.equal(result.end.reason, 'stopped');
      assert.ok(await waitFor(() => !isAlive(pid) && !isAlive(grandchild), 5000), 'no process is left behind');
    });
  });
}

describe('tracer with an unusable interpreter', () => {
  it('names a missing interpreter and how to set one', async () => {
    const result = await traceFixture(path.join(EXAMPLES, 'sum_list.py'), {}, { python: '/no/such/python3' });
    assert.equal(result.end.reason, 'error');
    assert.match(result.end.message, /"\/no\/such\/python3" was not found; set neuralDebugger\.pythonPath/);
  });

  for (const old of oldInterpreters()) {
    it(`refuses Python ${old.version} with a clear message`, async () => {
      const result = await traceFixture(path.join(EXAMPLES, 'sum_list.py'), {}, { python: old.path });
      assert.equal(result.end.reason, 'error');
      assert.match(result.end.message, /needs Python 3\.8 or newer; .* is Python /);
    });
  }
});

function list5000Length(): number {
  // len(repr(list(range(5000)))): 4 digits * 4000 + 3 * 900 + 2 * 90 + 10 digits, plus ", " * 4999 and brackets.
  return 4 * 4000 + 3 * 900 + 2 * 90 + 10 + 2 * 4999 + 2;
}
