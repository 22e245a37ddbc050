/**
 * Verified repair: what states an expectation, the mutations of a line, literal values compared without
 * Python, unified diffs, the repair of real programs on a real Python (a fix that breaks a passing
 * check is never offered), and `neural-debug fix` as a user runs it.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { checkExpectation, isTruthy } from '../../src/repair/check';
import { unifiedDiff } from '../../src/repair/diff';
import { describeExpectation, findExpectations, findTestExpectations, parseStatedExpectation } from '../../src/repair/expectations';
import { literalKey } from '../../src/repair/literal-key';
import { mutateLine } from '../../src/repair/mutations';
import { repairProgram } from '../../src/repair/repair';
import { runCli } from '../helpers/cli';
import { defaultPython, tempDir } from '../helpers/env';

function writeProgram(text: string, name = 'program.py'): string {
  const file = path.join(tempDir('nd-fix-'), name);
  fs.writeFileSync(file, text);
  return file;
}

const EVENS = `def total_of_evens(xs):
    """Sum of the even numbers.

    >>> total_of_evens([2, 3, 4])
    6
    """
    total = 0
    for x in xs:
        if x % 2 == 1:
            total += x
    return total


if __name__ == "__main__":
    assert total_of_evens([2, 4]) == 6
    assert total_of_evens([1, 3]) == 0, "odd numbers add nothing"
    assert total_of_evens([]) == 0
    print(total_of_evens([5]))
`;

describe('expectations', () => {
  it('come from asserts, doctests and calls, each once, with their lines', () => {
    assert.deepEqual(findExpectations(EVENS).map((e) => [describeExpectation(e), e.origin, e.line]), [
      ['total_of_evens([2, 3, 4]) == 6', 'doctest', 4],
      ['total_of_evens([2, 4]) == 6', 'assert', 15],
      ['total_of_evens([1, 3]) == 0', 'assert', 16],
      ['total_of_evens([]) == 0', 'assert', 17],
      ['total_of_evens([5]) returns', 'call', 18],
    ]);
  });

  it('read truthy, falsy and reversed asserts, tests that import the module, and what the user states', () => {
    const names = new Set(['is_even']);
    const test = `import evens\nfrom evens import is_even\n\ndef test_it():\n    assert is_even(2)\n    assert not evens.is_even(3)\n    assert True == is_even(4)\n    assert is_even(x) == True\n`;
    assert.deepEqual(findTestExpectations(test, 't.py', 'evens', [...names]).map(describeExpectation), ['is_even(2) is true', 'is_even(3) is false', 'is_even(4) == True']);
    assert.deepEqual(findTestExpectations(test, 't.py', 'other', [...names]), []);
    assert.equal(describeExpectation(parseStatedExpectation('is_even(6) == True', names) ?? assert.fail()), 'is_even(6) == True');
    assert.equal(parseStatedExpectation('is_even(n) == True', names), undefined);
    assert.equal(parseStatedExpectation('other(1) == 2', names), undefined);
  });
});

describe('mutations of a line', () => {
  const changes = (line: string, same: Record<string, string[]> = {}): string[] => mutateLine(line, (name) => same[name] ?? []).map((m) => m.text.trim());

  it('flip comparisons, operators and booleans, never inside strings or comments', () => {
    const out = changes('if a < b and not done:  # a < b "and"');
    for (const expected of ['if a <= b and not done:  # a < b "and"', 'if a > b and not done:  # a < b "and"', 'if a < b or not done:  # a < b "and"', 'if a < b and done:  # a < b "and"']) assert.ok(out.includes(expected), `${expected} not in ${JSON.stringify(out)}`);
    assert.ok(!out.some((line) => line.includes('# a <= b') || line.includes('"or"')));
    assert.deepEqual(changes("s = 'a-b'"), []);
  });

  it('shift bounds and indices by one, swap arguments, and swap a variable only for one of the same type', () => {
    assert.ok(changes('for i in range(1, n):').includes('for i in range(1, n + 1):'));
    assert.ok(changes('return xs[i]').includes('return xs[i - 1]'));
    assert.ok(changes('x = len(xs)').includes('x = len(xs) - 1'));
    assert.ok(changes('return pair(b, a)').includes('return pair(a, b)'));
    const swaps = changes('hi = mid', { mid: ['lo'] });
    assert.ok(swaps.includes('hi = lo'));
    assert.ok(!swaps.includes('lo = mid'), 'an assignment target is not swapped');
    assert.ok(changes('n ^= n - 1').includes('n &= n - 1'));
    assert.ok(!changes('f(*args)').some((line) => line.includes('+args')), 'a star argument is not an operator');
  });
});

describe('values and diffs', () => {
  it('literal keys say equal for equal values, whatever the quotes or the order of a dict, and not across types', () => {
    assert.equal(literalKey("{'a': [1, 2], 'b': (3,)}"), literalKey('{"b": (3,), "a": [1,2]}'));
    assert.notEqual(literalKey('1'), literalKey('1.0'));
    assert.notEqual(literalKey('True'), literalKey('1'));
    assert.notEqual(literalKey('[1, 2]'), literalKey('(1, 2)'));
    assert.equal(literalKey("'it\\'s'"), undefined, 'an escape is left to Python');
    assert.equal(literalKey('<object at 0x1>'), undefined);
    assert.ok(isTruthy('[0]') && !isTruthy('[]') && !isTruthy('0') && isTruthy("'0'"));
  });

  it('a unified diff as git prints it', () => {
    const before = 'a\nb\nc\nd\ne\nf\ng\nh\n';
    assert.equal(unifiedDiff(before, before.replace('e', 'E'), 'x.py'), '--- a/x.py\n+++ b/x.py\n@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n');
    assert.equal(unifiedDiff(before, before, 'x.py'), '');
  });
});

describe('repair on a real Python', () => {
  const python = defaultPython();

  it('checks an expectation by a real run', async () => {
    const file = writeProgram(EVENS);
    const [first, , , , call] = findExpectations(EVENS);
    const failing = await checkExpectation(EVENS, first, { programPath: file, python });
    assert.deepEqual([failing.passed, failing.actual, failing.outcome], [false, '3', 'returned 3, expected 6']);
    assert.ok(failing.frames.length > 5);
    assert.equal((await checkExpectation(EVENS, call, { programPath: file, python })).passed, true);
    const raising = await checkExpectation('def f(xs):\n    return xs[3]\n', { function: 'f', args: '[1]', kind: 'equal', expected: '1', origin: 'user', line: 0 }, { programPath: file, python });
    assert.match(raising.outcome, /^raised IndexError: list index out of range/);
  });

  it('offers only fixes that pass the failing check and every check that passed, nearest the failure first', async () => {
    const file = writeProgram(EVENS);
    const report = await repairProgram(EVENS, findExpectations(EVENS), { programPath: file, python, fileLabel: 'evens.py', maxFixes: 2 });
    assert.equal(report.target?.expectation.line, 4);
    assert.ok(report.fixes.length >= 1, `no fix in ${report.tried} candidates`);
    const fix = report.fixes[0];
    assert.equal(fix.line, 9);
    assert.match(fix.change, /on line 9$/);
    assert.match(fix.summary, /^now total_of_evens\(\[2, 3, 4\]\) == 6 holds \(returned 6\); also fixes total_of_evens\(\[2, 4\]\) == 6, total_of_evens\(\[1, 3\]\) == 0; 2 other checks still pass$/);
    assert.match(fix.diff, /^--- a\/evens\.py\n\+\+\+ b\/evens\.py\n@@ -6,7 \+6,7 @@\n/);
    assert.ok(report.secondsToFirstFix !== undefined && report.secondsToFirstFix <= report.seconds);
  });

  it('never offers a fix that breaks a check that passed', async () => {
    // `x > 2` -> `x < 2` (or negating it) makes f(3) == 4 pass but breaks f(0) == 1: rejected.
    // `2` -> `3` fixes it.
    const text = 'def f(x):\n    if x > 2:\n        return x\n    return x + 1\n\n\nif __name__ == "__main__":\n    assert f(0) == 1\n    assert f(3) == 4\n';
    const file = writeProgram(text);
    const report = await repairProgram(text, findExpectations(text), { programPath: file, python, maxFixes: 5 });
    assert.equal(report.target?.expectation.args, '3');
    for (const fix of report.fixes) {
      for (const expectation of findExpectations(text)) {
        assert.ok((await checkExpectation(fix.source, expectation, { programPath: file, python })).passed, `${fix.change} breaks ${describeExpectation(expectation)}`);
      }
    }
    assert.ok(report.fixes.some((fix) => fix.line === 2), `the comparison on line 2 is the bug: ${report.fixes.map((fix) => fix.change).join('; ')}`);
  });

  it('adds a missing return', async () => {
    const text = 'def double(x):\n    y = 2 * x\n\n\nif __name__ == "__main__":\n    assert double(2) == 4\n';
    const report = await repairProgram(text, findExpectations(text), { programPath: writeProgram(text), python, maxFixes: 1 });
    assert.equal(report.fixes[0]?.newText, '    return y');
  });

  it('says so when every check passes or nothing states one', async () => {
    const text = 'def f(x):\n    return x\n\n\nif __name__ == "__main__":\n    assert f(1) == 1\n';
    assert.equal((await repairProgram(text, findExpectations(text), { programPath: writeProgram(text), python })).note, 'all 1 checks pass');
    assert.match((await repairProgram(text, [], { programPath: writeProgram(text), python })).note ?? '', /^no expectations/);
  });
});

describe('neural-debug fix', () => {
  it('prints the verified patches as unified diffs, with a test beside the program', () => {
    const file = writeProgram('def is_even(n):\n    return n % 2 == 1\n', 'parity.py');
    fs.writeFileSync(path.join(path.dirname(file), 'test_parity.py'), 'from parity import is_even\n\ndef test_even():\n    assert is_even(4)\n    assert not is_even(3)\n');
    const run = runCli(['fix', file, '--python', defaultPython(), '--max-fixes', '1']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^# .* on line 2: now is_even\(4\) is true holds \(returned True\); also fixes is_even\(3\) is false\n--- a\/parity\.py\n\+\+\+ b\/parity\.py\n@@ -1,2 \+1,2 @@\n def is_even\(n\):\n-    return n % 2 == 1\n\+    return n % 2 == [0]\n|^# .*\n--- a\/parity\.py/);
    assert.match(run.stderr, /is_even\(4\) is true: returned False, expected a true value/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'def is_even(n):\n    return n % 2 == 1\n', 'the file itself is never changed');
  });

  it('takes --expect, prints JSON, and says what is wrong', () => {
    const file = writeProgram('def inc(x):\n    return x - 1\n');
    const json = runCli(['fix', file, '--expect', 'inc(1) == 2', '--format', 'json', '--python', defaultPython(), '--max-fixes', '1']);
    assert.equal(json.status, 0, json.stderr);
    const report = JSON.parse(json.stdout) as { checks: Array<{ expectation: string; passed: boolean }>; fixes: Array<{ change: string }> };
    assert.deepEqual(report.checks.map((check) => [check.expectation, check.passed]), [['inc(1) == 2', false]]);
    assert.match(report.fixes[0].change, /`-` → `\+` on line 2/);
    assert.equal(runCli(['fix', file]).status, 1);
    assert.equal(runCli(['fix', file, '--expect', 'inc(y) == 2']).status, 2);
    const unfixable = runCli(['fix', file, '--expect', 'inc(1) == "two"', '--python', defaultPython()]);
    assert.equal(unfixable.status, 4, unfixable.stderr);
    assert.match(unfixable.stderr, /0 verified fixes for inc\(1\) == "two" \((\d+) of \1 candidates run\)/);
  });
});
