/** Output values compared as Python values by same_values.py, which must never run what it reads. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { sameValues, ValueComparisonError } from '../../src/runtime/same-values';
import { defaultPython, tempDir } from '../helpers/env';

describe('comparing output values', () => {
  test('literals compare as values, of the same types all the way down', async () => {
    const cases: Array<[string, string, boolean]> = [
      ['[1, 2]', '[1,2]', true],
      ["'a'", '"a"', true],
      ['{1: 2, 3: 4}', '{3: 4, 1: 2}', true],
      ["{'b', 'a'}", "{'a', 'b'}", true],
      ['(1,)', '(1, )', true],
      ['  5', '5', true],
      ['True', '1', false],
      ['1', '1.0', false],
      ['[1]', '[1.0]', false],
      ['(1,)', '[1]', false],
      ["{'a': [True]}", "{'a': [1]}", false],
      ['-0.5', '-0.50', true],
      ["'x'", "'y'", false],
    ];
    const answers = await sameValues(cases.map(([a, b]) => [a, b] as const), { python: defaultPython() });
    assert.deepEqual(answers, cases.map(([, , expected]) => expected));
  });

  test('where a side is not a literal, the texts decide, memory addresses aside', async () => {
    const cases: Array<[string, string, boolean]> = [
      ['<Node object at 0x7f00aa>', '<Node object at 0x7fbb01>', true],
      ['set()', 'set()', true],
      ['set()', '{1}', false],
      ['nan', 'nan', true],
      ['f(1)', 'f(2)', false],
      ['[1, 2', '[1, 2]', false],
    ];
    const answers = await sameValues(cases.map(([a, b]) => [a, b] as const), { python: defaultPython() });
    assert.deepEqual(answers, cases.map(([, , expected]) => expected));
  });

  test('a value is read, never run', async () => {
    const dir = tempDir('nd-same-values-');
    const marker = path.join(dir, 'ran');
    const hostile = `__import__('os').system('touch ${marker}')`;
    assert.deepEqual(await sameValues([[hostile, '0'], ['0', hostile], [hostile, hostile]], { python: defaultPython() }), [false, false, true]);
    assert.equal(fs.existsSync(marker), false);
  });

  test('no pairs start no interpreter; an interpreter that cannot start is an error that says so', async () => {
    assert.deepEqual(await sameValues([], { python: '/nonexistent/python3' }), []);
    await assert.rejects(sameValues([['1', '1']], { python: '/nonexistent/python3' }), (error: unknown) => error instanceof ValueComparisonError && /cannot start \/nonexistent\/python3/.test(error.message));
  });
});
