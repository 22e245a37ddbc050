/**
 * Halting verdicts: where inputs come from, when a repeated real state is a proof, the real check on a
 * real Python, the model's runs (a replayed trace for the control flow, the bundled ONNX model for the
 * real path), and `neural-debug halt` as a user runs it.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findFunctionInputs, findTestInputs, isLiteralArgs } from '../../src/halting/inputs';
import { hiddenStateReasons, isImmutableLiteral } from '../../src/halting/hidden-state';
import { StateTracker } from '../../src/halting/program-state';
import { checkHaltingForReal } from '../../src/halting/real-check';
import { predictHalting, vote } from '../../src/halting/model-check';
import { judgeHalting } from '../../src/halting/judge';
import { headline, reportText } from '../../src/halting/verdict';
import type { ModelBackend } from '../../src/model/backend';
import { BUNDLED_MODEL_DIR, openModel } from '../../src/model/open-model';
import { startTrace } from '../../src/runtime/tracer';
import { buildPromptProgram } from '../../src/trace/prompt';
import { runCli } from '../helpers/cli';
import { defaultPython, REPO_ROOT, tempDir } from '../helpers/env';
import { testTokenizer } from '../helpers/fake-backend';
import { replayBackend } from '../helpers/replay-model';

function writeProgram(text: string, name = 'program.py'): string {
  const file = path.join(tempDir('nd-halt-'), name);
  fs.writeFileSync(file, text);
  return file;
}

const CYCLE = `def cycle(x):
    while x != 1:
        if x % 2 == 0:
            x = x // 2
        else:
            x = x + 5
    return x
`;

describe('inputs of a function', () => {
  it('come from the __main__ block, the top level and doctests, not from method calls or definitions', () => {
    const text = `def area(w, h):
    """Area.

    >>> area(2, 3)
    6
    """
    return w * h

def other(x):
    return obj.area(x)

print(area(
    4, 5))
if __name__ == "__main__":
    print(area(1, 2), other([1, "a)"]))
`;
    const found = findFunctionInputs(text);
    assert.deepEqual(found.map((fn) => fn.name), ['area', 'other']);
    assert.deepEqual(found[0].inputs, [
      { args: '4, 5', origin: 'top-level', line: 12 },
      { args: '1, 2', origin: 'main', line: 15 },
      { args: '2, 3', origin: 'doctest', line: 4 },
    ]);
    assert.deepEqual(found[1].inputs, [{ args: '[1, "a)"]', origin: 'main', line: 15 }]);
  });

  it('come from tests only when the test imports the module, and only with literal arguments', () => {
    const test = `from shapes import area\n\ndef test_area():\n    assert area(2, 3) == 6\n    assert area(w, 3) == 3 * w\n    assert shapes.area(-1, 0) == 0\n`;
    assert.deepEqual(findTestInputs(test, 't.py', 'shapes', ['area']).get('area'), [
      { args: '2, 3', origin: 'test', line: 4, file: 't.py' },
      { args: '-1, 0', origin: 'test', line: 6, file: 't.py' },
    ]);
    assert.equal(findTestInputs(test, 't.py', 'other_module', ['area']).size, 0);
  });

  it('literal argument text is told from text that names variables or calls', () => {
    for (const ok of ['', '1, 2', '[1, -2.5e3], {"a": (None,)}', "'x', key=True", '0x1f, 2j, {1, 2}']) assert.ok(isLiteralArgs(ok), ok);
    for (const bad of ['n', 'f(1)', '[x for x in y]', '1 + k', '"a", b']) assert.ok(!isLiteralArgs(bad), bad);
  });
});

describe('hidden state', () => {
  it('a program of while loops over its own immutable variables keeps its whole state in its locals', () => {
    assert.deepEqual(hiddenStateReasons(`LIMIT = 10\n\n${CYCLE}\ndef g(n):\n    """for docs"""\n    return cycle(n) + LIMIT  # for the test\n`), []);
  });

  it('iterators, globals, attributes and modules are reasons', () => {
    const reasons = (text: string): string => hiddenStateReasons(text).join('; ');
    assert.match(reasons('def f(xs):\n    for x in xs:\n        pass\n'), /for loop/);
    assert.match(reasons('seen = []\ndef f():\n    while len(seen) < 5:\n        seen.append(1)\n'), /reads "seen"/);
    assert.match(reasons('def f(o):\n    while o.n:\n        o.n -= 1\n'), /attributes/);
    assert.match(reasons('import random\ndef f():\n    while random.random() < 0.9:\n        pass\n'), /reads "random"/);
    assert.match(reasons('def f():\n    while True:\n        x = input()\n'), /reads "input"/);
  });

  it('only numbers, strings, bytes, booleans, None and tuples of them are immutable literals', () => {
    for (const ok of ['3', '-2.5e-07', "'a[b]'", '"it\'s"', "b'x'", '(1, (None, True), "]")', 'inf', '(1+2j)']) assert.ok(isImmutableLiteral(ok), ok);
    for (const bad of ['[1]', '{}', 'set()', '<object at 0x1>', "'abc...<+10 chars>", 'Point(x=1)', '(1, [2])']) assert.ok(!isImmutableLiteral(bad), bad);
  });
});

describe('the state tracker', () => {
  it('finds a line state that comes back, with the whole stack, and not a state that only looks alike one level down', () => {
    const tracker = new StateTracker();
    const feed = (event: 'call' | 'line' | 'return', depth: number, line: string, x?: string): unknown => tracker.add({ event, depth, line, ...(x === undefined ? {} : { locals: [['x', x]] as const }) });
    assert.equal(feed('call', 1, '1', '1'), undefined);
    assert.equal(feed('line', 1, '2', '1'), undefined); // 1
    assert.equal(feed('call', 2, '1', '5'), undefined);
    assert.equal(feed('line', 2, '2', '1'), undefined); // same line and locals as frame 1, but one level deeper
    assert.equal(feed('return', 2, '3'), undefined);
    assert.deepEqual(feed('line', 1, '2', '1'), { first: 1, second: 5 });
  });
});

describe('the real check', () => {
  const python = defaultPython();
  const judge = (text: string, entry: string, args: string, timeoutSeconds = 2): ReturnType<typeof checkHaltingForReal> => {
    const file = writeProgram(text);
    return checkHaltingForReal(buildPromptProgram(text, { entry, args }), { programPath: file, python, timeoutSeconds });
  };

  it('a call that returns terminates', async () => {
    const check = await judge(CYCLE, 'cycle', '8');
    assert.equal(check.outcome, 'returned');
    assert.equal(check.verdict, 'terminates');
    assert.match(check.summary, /^real run returned in \d+ ms$/);
  });

  it('a whole state that comes back proves a loop, at the steps where it happened', async () => {
    // 7 -> 12 -> 6 -> 3 -> 8 -> 4 -> 2 -> 1 ends; 5 -> 10 -> 5 goes round for ever.
    assert.equal((await judge(CYCLE, 'cycle', '7')).verdict, 'terminates');
    const cycle = await judge(CYCLE, 'cycle', '5');
    assert.equal(cycle.outcome, 'repeat');
    assert.ok(cycle.proven);
    assert.equal(cycle.verdict, 'may-not-terminate');
    // The wrapper's call and line, then cycle's call, then its lines: x=5 at `while` is step 4, again at step 10.
    assert.deepEqual(cycle.repeat, { first: 4, second: 10, line: 2, locals: [['x', '5']] });
    assert.equal(cycle.summary, 'proven: the state at step 4 repeats at step 10');
    assert.ok(cycle.milliseconds < 1000);
  });

  it('claims no proof where equal reprs need not be equal states (aliased lists, a global list)', async () => {
    const aliasing = `def g():\n    a = [0]\n    b = [0]\n    while True:\n        a.append(1)\n        if b != [0]:\n            return len(a)\n        a.pop()\n        b = a\n`;
    const aliased = await judge(aliasing, 'g', '');
    assert.equal(aliased.outcome, 'returned', aliased.summary);
    const global = `seen = []\n\ndef h():\n    n = 0\n    while True:\n        seen.append(1)\n        if len(seen) > 5:\n            return n\n`;
    assert.equal((await judge(global, 'h', '')).outcome, 'returned');
  });

  it('growing state runs to the limit; unbounded recursion to the depth limit; a bad call is not a verdict', async () => {
    const counter = await judge('def up(n):\n    i = 0\n    while i != n:\n        i += 2\n    return i\n', 'up', '5', 0.5);
    assert.equal(counter.verdict, 'may-not-terminate');
    assert.ok(!counter.proven);
    assert.match(counter.summary, /still going after (0\.5 s|100,000 steps) — stopped/);
    const recursion = await judge('def fact(n):\n    if n == 0:\n        return 1\n    return n * fact(n - 1)\n', 'fact', '-1');
    assert.equal(recursion.outcome, 'max-depth');
    assert.equal(recursion.verdict, 'may-not-terminate');
    const stuckImport = await judge(`${CYCLE}\nwhile True:\n    pass\n`, 'cycle', '8', 0.5);
    assert.deepEqual([stuckImport.verdict, stuckImport.steps], ['unknown', 0]);
    assert.match(stuckImport.summary, /never reached the call: the program's top-level code ran into the 0\.5 s limit/);
    const broken = await judge(CYCLE, 'cycle', 'undefined_name');
    assert.equal(broken.verdict, 'unknown');
    assert.match(broken.summary, /^real run could not make the call: NameError/);
  });
});

describe("the model's verdict", () => {
  const tokenizer = testTokenizer();
  const record = async (text: string, entry: string, args: string, maxSteps: number): Promise<{ program: ReturnType<typeof buildPromptProgram>; frames: Parameters<typeof replayBackend>[1] }> => {
    const file = writeProgram(text);
    const program = buildPromptProgram(text, { entry, args });
    const trace = await startTrace({ programPath: file, program, python: defaultPython(), limits: { maxSteps } }).done;
    return { program, frames: trace.frames };
  };

  it('a model that predicts the real trace ends it: terminates, the witness is the trace to the return', async () => {
    const { program, frames } = await record(CYCLE, 'cycle', '8', 1000);
    const verdict = await predictHalting(replayBackend(tokenizer, frames), program, undefined, { samples: 1 });
    assert.equal(verdict.verdict, 'terminates');
    assert.equal(verdict.confidence, 1);
    assert.deepEqual(verdict.runs.map((run) => [run.kind, run.outcome, run.steps.length]), [['greedy', 'ended', frames.length], ['sample', 'ended', frames.length]]);
    assert.equal(verdict.runs[0].steps[2].line, 1); // cycle's call frame, at its def line in the user's file
  });

  it('a predicted state that comes back is a lasso; a prediction that goes on is out of budget', async () => {
    const { program, frames } = await record(CYCLE, 'cycle', '5', 30);
    const lasso = await predictHalting(replayBackend(tokenizer, frames), program, undefined, { samples: 0 });
    assert.equal(lasso.verdict, 'may-not-terminate');
    assert.deepEqual(lasso.runs[0].lasso, { first: 4, second: 10 });
    const counter = await record('def up(n):\n    i = 0\n    while i != n:\n        i += 2\n    return i\n', 'up', '5', 60);
    const budget = await predictHalting(replayBackend(tokenizer, counter.frames), counter.program, undefined, { samples: 0, maxSteps: 20 });
    assert.deepEqual([budget.verdict, budget.confidence, budget.runs[0].outcome, budget.runs[0].steps.length], ['may-not-terminate', 0.5, 'budget', 20]);
  });

  it('a report reads as one line for a lens and as a page with the witness, disagreement said', () => {
    const steps = [
      { step: 1, event: 'call' as const, depth: 1, line: 1, text: '', reading: 'call def cycle(x):   x=5' },
      { step: 2, event: 'line' as const, depth: 1, line: 2, text: '', reading: 'while x != 1:   x=5' },
      { step: 3, event: 'line' as const, depth: 1, line: 2, text: '', reading: 'while x != 1:   x=5' },
    ];
    const model = { verdict: 'may-not-terminate' as const, confidence: 0.75, model: 'm', runs: [{ kind: 'greedy' as const, outcome: 'lasso' as const, steps, lasso: { first: 2, second: 3 } }, { kind: 'sample' as const, seed: 1, outcome: 'budget' as const, steps, problem: "the model's context (1024 tokens) filled" }] };
    const real = { outcome: 'returned' as const, verdict: 'terminates' as const, proven: false, steps: 9, milliseconds: 3, hidden: [], summary: 'real run returned in 3 ms' };
    const report = { entry: 'cycle', args: '5', model, real };
    assert.equal(headline(report), 'model: may not terminate (75 %) · real run returned in 3 ms — they disagree');
    const page = reportText(report);
    assert.match(page, /sample \(seed 1\): still going after 3 steps \(when the model's context \(1024 tokens\) filled\)/);
    assert.match(page, /The model and the real run disagree: the model says may not terminate, the real run terminates\./);
    assert.match(page, /   2  L2    while x != 1:   x=5   ◀ this state…\n   3  L2    while x != 1:   x=5   ◀ …repeats \(step 2\)/);
    assert.equal(headline({ entry: 'cycle', args: '5', model, realSkipped: 'untrusted workspace: no code of yours runs' }), 'may not terminate (75 %) · model only: untrusted workspace: no code of yours runs');
  });

  it('the runs vote: ends against lassos, a spent budget at half weight, a tie unknown', () => {
    assert.deepEqual(vote([{ outcome: 'ended' }, { outcome: 'lasso' }, { outcome: 'ended' }]), { verdict: 'terminates', confidence: 2 / 3 });
    assert.deepEqual(vote([{ outcome: 'ended' }, { outcome: 'budget' }, { outcome: 'budget' }]), { verdict: 'unknown', confidence: 0 });
    assert.deepEqual(vote([{ outcome: 'broken' }, { outcome: 'lasso' }, { outcome: 'budget' }]), { verdict: 'may-not-terminate', confidence: 0.5 });
    assert.deepEqual(vote([{ outcome: 'broken' }]), { verdict: 'unknown', confidence: 0 });
  });

  describe('on the bundled ONNX model', () => {
    let model: ModelBackend;
    before(async () => {
      model = await openModel({ model: path.join(REPO_ROOT, BUNDLED_MODEL_DIR), device: 'cpu' });
    });
    after(async () => {
      await model.close();
    });

    it('predicts runs that each end, repeat or spend their budget, and reports them beside the real run', async () => {
      const text = `${CYCLE}\nif __name__ == "__main__":\n    cycle(5)\n`;
      const file = writeProgram(text);
      const program = buildPromptProgram(text, { entry: 'cycle', args: '5' });
      const report = await judgeHalting(program, { entry: 'cycle', args: '5' }, { backend: model, model: { maxSteps: 12, samples: 1 }, real: { programPath: file, python: defaultPython() } });
      const verdict = report.model;
      assert.ok(verdict, report.modelProblem);
      assert.equal(verdict.runs.length, 2);
      for (const run of verdict.runs) {
        assert.ok(['ended', 'lasso', 'budget'].includes(run.outcome), `${run.outcome}: ${run.problem}`);
        assert.ok(run.steps.length <= 12);
        assert.match(run.steps[0].text, /^<\|call_sep\|>/);
      }
      assert.equal(report.real?.outcome, 'repeat');
      const text2 = reportText(report);
      assert.match(text2, /^Halting of cycle\(5\)\n/);
      assert.match(text2, /Real run: may not terminate: proven: the state at step 4 repeats at step 10/);
      assert.match(text2, /Witness: the (greedy|sampled \(seed 1\)) prediction/);
      assert.match(headline(report), /proven: the state at step 4 repeats at step 10/);
    });
  });
});

describe('neural-debug halt', () => {
  const program = writeProgram(`${CYCLE}\ndef double(n):\n    """>>> double(2)\n    4\n    """\n    return 2 * n\n\nif __name__ == "__main__":\n    print(cycle(5))\n`, 'loops.py');
  fs.writeFileSync(path.join(path.dirname(program), 'test_loops.py'), 'from loops import cycle\n\ndef test_cycle():\n    assert cycle(8) == 1\n');
  const python = ['--python', defaultPython()];

  it('judges every call the file and its tests give, with the real run', () => {
    const run = runCli(['halt', program, '--no-model', ...python, '--timeout', '1']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /Halting of cycle\(5\)\n\nModel: no prediction \(--no-model\)\nReal run: may not terminate: proven: the state at step 4 repeats at step 10/);
    assert.match(run.stdout, /Halting of cycle\(8\)\n[\s\S]*Real run: terminates: real run returned in \d+ ms/);
    assert.match(run.stdout, /Halting of double\(2\)/);
    assert.match(run.stderr, /judging cycle\(8\) \(a test, test_loops\.py:4\)/);
  });

  it('prints JSON, runs nothing with --no-run, and says what is wrong with bad input', () => {
    const json = runCli(['halt', program, '--entry', 'cycle', '--args', '5', '--no-run', '--samples', '0', '--max-steps', '6', '--format', 'json']);
    assert.equal(json.status, 0, json.stderr);
    const record = JSON.parse(json.stdout) as { entry: string; model: { verdict: string; runs: unknown[] }; real: { skipped: string } };
    assert.equal(record.entry, 'cycle');
    assert.equal(record.model.runs.length, 1);
    assert.match(record.real.skipped, /nothing of the program runs/);
    const none = runCli(['halt', writeProgram('def f(x):\n    return x\n'), '--no-model']);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /no function has inputs to judge/);
    assert.equal(runCli(['halt', program, '--no-run', '--no-model']).status, 2);
    assert.equal(runCli(['halt', program, '--entry', 'nope', '--no-model']).status, 1);
  });
});
