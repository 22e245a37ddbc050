/** Binding argument text to a marked entry's parameters, by a real Python that evaluates literals only. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { bindArguments, BindError } from '../../src/runtime/bind-args';
import { buildPromptProgram } from '../../src/trace/prompt';
import { defaultPython, tempDir } from '../helpers/env';

const SOURCE = `def f(a, b=2, *rest, c=[1], **kw):
    return a

def main():
    return f(1)
`;

function bind(args: string, source = SOURCE, entry = 'f'): ReturnType<typeof bindArguments> {
  return bindArguments(buildPromptProgram(source, { entry, args }), { python: defaultPython() });
}

describe('binding a marked entry\'s arguments without running the program', () => {
  it('binds positional, keyword, *args and **kwargs as CPython\'s frame would hold them', async () => {
    assert.deepEqual(await bind('[1,2], c={"x": 1}, z=3'), [['a', '[1, 2]'], ['b', '2'], ['rest', '()'], ['c', "{'x': 1}"], ['kw', "{'z': 3}"]]);
    assert.deepEqual(await bind("'s', 5, 6, 7"), [['a', "'s'"], ['b', '5'], ['rest', '(6, 7)'], ['c', '[1]'], ['kw', '{}']]);
  });

  it('never runs the program: a side effect in it does not happen', async () => {
    const dir = tempDir('nd-bind-');
    const marker = path.join(dir, 'ran');
    const source = `open(${JSON.stringify(marker)}, 'w').write('x')\n\ndef f(a):\n    return a\n\ndef main():\n    return f(1)\n`;
    assert.deepEqual(await bind('41', source), [['a', '41']]);
    assert.equal(fs.existsSync(marker), false);
  });

  it('refuses what is not a literal, and wrong calls, with a message', async () => {
    await assert.rejects(bind('open("x")'), (error: unknown) => error instanceof BindError && /argument 1 is not a Python literal \(open\("x"\)\)/.test(error.message));
    await assert.rejects(bind('1', 'def f(a, b=g()):\n    pass\n\ndef main():\n    return f(1)\n'), /the default of b is not a Python literal \(g\(\)\)/);
    await assert.rejects(bind('1, d=2', 'def f(a):\n    pass\n\ndef main():\n    return f(1)\n'), /f\(1, d=2\): got an unexpected keyword argument 'd'/);
    await assert.rejects(bind('1,,'), /the arguments are not valid Python/);
    await assert.rejects(bindArguments(buildPromptProgram(SOURCE, { entry: 'f', args: '1' }), { python: '/nonexistent/python' }), /cannot start \/nonexistent\/python/);
  });
});
