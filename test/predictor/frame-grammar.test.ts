/**
 * Frame-grammar decoding: the grammar allows every frame our tracer really writes (on programs with
 * loops, recursion, exceptions, lambdas, generators and on CruxEval when the data is there), forbids
 * what no trace contains, and makes even a random-weight ONNX model write only well-formed frames.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ModelBackend } from '../../src/model/backend';
import { openModel } from '../../src/model/open-model';
import { seededRandom } from '../../src/model/sampling';
import { CwmTokenizer } from '../../src/model/tokenizer';
import { readRows, traceRows } from '../../src/eval/rows';
import { Predictor } from '../../src/predictor';
import { boundNames } from '../../src/predictor/bound-names';
import { FrameGrammar, grammarAfter } from '../../src/predictor/frame-grammar';
import { encodeFrameTokens } from '../../src/predictor/frame-tokens';
import { ProgramFacts } from '../../src/predictor/program-facts';
import type { TraceFrame } from '../../src/trace/frame';
import { buildPromptProgram } from '../../src/trace/prompt';
import { SPECIAL_TOKENS as T } from '../../src/trace/tokens';
import { defaultPython, REPO_ROOT, SHARED_DATA, tempDir } from '../helpers/env';
import { TINY } from '../helpers/models';
import { programs, Recorded } from './world';

const BUNDLED_TOKENIZER = CwmTokenizer.fromFile(path.join(REPO_ROOT, 'models', 'cwm-tiny', 'tokenizer.json'));
const FIXTURE_TOKENIZER = CwmTokenizer.fromFile(path.join(TINY, 'tokenizer.json'));

function endIds(tokenizer: CwmTokenizer): Set<number> {
  return new Set([tokenizer.special(T.endOfText), ...(tokenizer.idOf('<|eot_id|>') !== undefined ? [tokenizer.idOf('<|eot_id|>') as number] : [])]);
}

function grammarAfterFrames(tokenizer: CwmTokenizer, facts: ProgramFacts, before: readonly TraceFrame[]): FrameGrammar {
  return grammarAfter(tokenizer, facts, before.map((frame) => ({ frame })), endIds(tokenizer));
}

/** The first token of `tokens` the grammar refuses, or -1 when it takes them all and the frame is complete. */
function firstRefused(grammar: FrameGrammar, tokens: readonly number[]): number {
  for (let i = 0; i < tokens.length; i++) {
    if (!grammar.allows(tokens[i])) return i;
    grammar.accept(tokens[i]);
  }
  return grammar.complete ? -1 : tokens.length;
}

/** Asserts that the grammar allows every real frame of a trace, written as our tracer writes it. */
function assertAllowsTrace(tokenizer: CwmTokenizer, source: string, frames: readonly TraceFrame[], label: string): void {
  const facts = new ProgramFacts(source);
  frames.forEach((frame, k) => {
    const tokens = encodeFrameTokens(tokenizer, frame, frames[k - 1]).tokens;
    const refused = firstRefused(grammarAfterFrames(tokenizer, facts, frames.slice(0, k)), tokens);
    assert.equal(refused, -1, `${label} step ${k}: refused at token ${refused} of ${JSON.stringify(tokenizer.decode(tokens))}`);
  });
  const end = grammarAfterFrames(tokenizer, facts, frames);
  assert.ok(end.allows(tokenizer.special(T.endOfText)), `${label}: the end of the trace`);
}

/** A frame's text as token ids, special tokens by id and text through the tokenizer. */
function frameIds(tokenizer: CwmTokenizer, parts: ReadonlyArray<string>): number[] {
  return parts.flatMap((part) => (Object.values(T).includes(part as (typeof T)[keyof typeof T]) ? [tokenizer.special(part as (typeof T)[keyof typeof T])] : tokenizer.encodeText(part)));
}

const SOURCE = `def f(xs, n):
    total = 0
    for x in xs:
        total += x * n
    return total

def main():  # << START_OF_TRACE
    return f([1, 2], 3)
`;

describe('the frame grammar allows every frame our tracer writes', () => {
  const cases: Array<[string, () => Promise<Recorded>]> = [
    ['sum_list', programs.sumList],
    ['sum_list marked', programs.sumListMarked],
    ['recursion and a caught exception', programs.catcher],
    ['an uncaught exception', programs.uncaught],
    ['a generator, lambdas, a comprehension, another module', programs.usesAll],
    ['loops and recursion', programs.walk],
  ];
  for (const [label, recorded] of cases) {
    test(label, async () => {
      const { program, frames } = await recorded();
      // The call into another module names a line that is not in the prompt: the trace stops being the
      // prompt's program there, and so does what the grammar can know.
      const inPrompt = frames.slice(0, frames.findIndex((frame) => !program.source.split('\n').includes(frame.source)) >>> 0);
      assert.ok(inPrompt.length > 3, label);
      assertAllowsTrace(BUNDLED_TOKENIZER, program.source, inPrompt, label);
      assertAllowsTrace(FIXTURE_TOKENIZER, program.source, inPrompt, label);
    });
  }

  const data = path.join(SHARED_DATA, 'cruxeval-dev.jsonl');
  test('CruxEval dev, every row', { skip: fs.existsSync(data) ? false : `${data} is absent (the dataset is never committed into the repo)` }, async () => {
    const rows = readRows(data);
    const traces = await traceRows(rows, { dir: tempDir('nd-grammar-'), python: defaultPython(), concurrency: 2 });
    let checked = 0;
    for (const trace of traces) {
      if (trace.result.end.reason !== 'returned' && trace.result.end.reason !== 'raised') continue;
      assertAllowsTrace(BUNDLED_TOKENIZER, trace.program.source, trace.result.frames, `row ${trace.row.id}`);
      checked++;
    }
    assert.ok(checked >= 350, `${checked} rows checked`);
  });
});

describe('the frame grammar forbids what no trace holds', () => {
  const tokenizer = BUNDLED_TOKENIZER;
  const facts = new ProgramFacts(buildPromptProgram(SOURCE, {}).source);
  const callF: TraceFrame = { event: 'call', locals: [['xs', '[1, 2]'], ['n', '3']], source: 'def f(xs, n):' };
  const lineF: TraceFrame = { event: 'line', locals: [['xs', '[1, 2]'], ['n', '3']], source: '    total = 0' };
  const main: TraceFrame[] = [
    { event: 'call', locals: [], source: 'def main():  # << START_OF_TRACE' },
    { event: 'line', locals: [], source: '    return f([1, 2], 3)' },
  ];
  const refused = (before: readonly TraceFrame[], parts: readonly string[]): number => firstRefused(grammarAfterFrames(tokenizer, facts, before), frameIds(tokenizer, parts));

  test('well-formed frames pass, the end of the trace passes only where a frame would start', () => {
    assert.equal(refused(main, [T.callSep, '{"xs": "[1, 2]", "n": "3"}', T.actionSep, 'def f(xs, n):\n', T.frameSep]), -1);
    assert.equal(refused([...main, callF], [T.lineSep, '{"xs": "..", "n": ".."}', T.actionSep, '    total = 0\n', T.frameSep]), -1);
    assert.equal(refused([...main, callF, lineF], [T.returnSep, T.actionSep, '    return total\n', T.argSep, '"9"', T.frameSep]), -1);
    assert.equal(refused(main, [T.endOfText]), -1);
    assert.notEqual(refused(main, [T.lineSep, '{}', T.endOfText]), -1);
  });

  test('keys: only the scope\'s names, each once', () => {
    assert.notEqual(refused(main, [T.callSep, '{"nope": "1"}', T.actionSep, 'def f(xs, n):\n', T.frameSep]), -1);
    assert.notEqual(refused([...main, callF], [T.lineSep, '{"xs": "[1, 2]", "xs": "[1, 2]"}', T.actionSep, '    total = 0\n', T.frameSep]), -1);
    // main's own scope has no `total`.
    assert.notEqual(refused(main, [T.lineSep, '{"total": "0"}', T.actionSep, '    return f([1, 2], 3)\n', T.frameSep]), -1);
  });

  test('a call frame holds exactly one function\'s parameters, and names that function\'s def line', () => {
    assert.equal(refused(main, [T.callSep, '{"n": "3", "xs": "[1, 2]"}', T.actionSep, 'def f(xs, n):\n', T.frameSep]), -1);
    assert.notEqual(refused(main, [T.callSep, '{"xs": "[1, 2]"}', T.actionSep, 'def f(xs, n):\n', T.frameSep]), -1);
    assert.notEqual(refused(main, [T.callSep, '{"xs": "[1, 2]", "n": "3", "total": "0"}', T.actionSep, 'def f(xs, n):\n', T.frameSep]), -1);
    assert.notEqual(refused(main, [T.callSep, '{"xs": "[1, 2]", "n": "3"}', T.actionSep, 'def main():  # << START_OF_TRACE\n', T.frameSep]), -1);
    assert.equal(refused([], [T.callSep, '{}', T.actionSep, 'def main():  # << START_OF_TRACE\n', T.frameSep]), -1);
    // With every parameter written, no further key can be opened.
    const grammar = grammarAfterFrames(tokenizer, facts, main);
    for (const id of frameIds(tokenizer, [T.callSep, '{"xs": "[1, 2]", "n": "3"'])) grammar.accept(id);
    assert.ok(!grammar.allows(tokenizer.encodeText(',')[0]));
  });

  test('never a dead end: random walks through the grammar always end a frame within its budget', () => {
    const random = seededRandom(7);
    const budget = 160;
    for (let walk = 0; walk < 12; walk++) {
      const before = walk % 2 === 0 ? main : [...main, callF];
      const grammar = grammarAfterFrames(tokenizer, facts, before);
      let taken = 0;
      while (!grammar.complete) {
        assert.ok(taken < budget, `walk ${walk} did not end within ${budget} tokens`);
        grammar.tokensLeft(budget - taken);
        const allowed: number[] = [];
        for (let id = 0; id < tokenizer.size; id++) if (grammar.allows(id)) allowed.push(id);
        assert.ok(allowed.length > 0, `walk ${walk}: nothing allowed after ${taken} tokens`);
        grammar.accept(allowed[Math.floor(random() * allowed.length)]);
        taken++;
      }
    }
  });

  test('".." only in a line frame, only for a name the previous call or line frame held', () => {
    assert.notEqual(refused(main, [T.callSep, '{"xs": ".."}', T.actionSep, 'def f(xs, n):\n', T.frameSep]), -1);
    assert.notEqual(refused([...main, callF], [T.lineSep, '{"total": ".."}', T.actionSep, '    total = 0\n', T.frameSep]), -1);
    const returned: TraceFrame = { event: 'return', source: '    return total', value: '9' };
    assert.notEqual(refused([...main, callF, lineF, returned], [T.lineSep, '{"xs": ".."}', T.actionSep, '    return f([1, 2], 3)\n', T.frameSep]), -1);
  });

  test('values: JSON strings as json.dumps writes them, never empty', () => {
    assert.equal(refused([...main, callF], [T.lineSep, '{"xs": "\'\\u00e9\\n\'", "n": ".."}', T.actionSep, '    total = 0\n', T.frameSep]), -1);
    assert.notEqual(refused([...main, callF], [T.lineSep, '{"xs": "é"}', T.actionSep, '    total = 0\n', T.frameSep]), -1);
    assert.notEqual(refused([...main, callF], [T.lineSep, '{"xs": ""}', T.actionSep, '    total = 0\n', T.frameSep]), -1);
    assert.notEqual(refused([...main, callF], [T.lineSep, '{"xs": "\\q"}', T.actionSep, '    total = 0\n', T.frameSep]), -1);
    assert.notEqual(refused([...main, callF], [T.lineSep, '{"xs":"1"}', T.actionSep, '    total = 0\n', T.frameSep]), -1);
  });

  test('with its budget nearly spent, an open value may only close, and the object after it', () => {
    const grammar = grammarAfterFrames(tokenizer, facts, [...main, callF]);
    for (const id of frameIds(tokenizer, [T.lineSep, '{"n": "..", "xs": "[1, 1, 1'])) grammar.accept(id);
    const more = tokenizer.encodeText(', 1')[0];
    const close = tokenizer.encodeText('"')[0];
    grammar.tokensLeft(100);
    assert.ok(grammar.allows(more) && grammar.allows(close));
    grammar.tokensLeft(5);
    assert.ok(!grammar.allows(more), 'the value may not grow');
    assert.ok(grammar.allows(close));
    grammar.accept(close);
    assert.ok(!grammar.allows(tokenizer.encodeText(',')[0]), 'no further local');
    assert.ok(grammar.allows(tokenizer.encodeText('}')[0]));
  });

  test('a line frame keeps every local its activation held, unless the function can unbind one', () => {
    assert.notEqual(refused([...main, callF], [T.lineSep, '{"xs": ".."}', T.actionSep, '    total = 0\n', T.frameSep]), -1);
    assert.equal(refused([...main, callF], [T.lineSep, '{"n": "..", "xs": ".."}', T.actionSep, '    total = 0\n', T.frameSep]), -1);
    const withDel = buildPromptProgram(SOURCE.replace('    return total', '    del xs\n    return total'), {}).source;
    const forgetting = new ProgramFacts(withDel);
    const grammar = grammarAfterFrames(tokenizer, forgetting, [...main, callF]);
    assert.equal(firstRefused(grammar, frameIds(tokenizer, [T.lineSep, '{"n": ".."}', T.actionSep, '    total = 0\n', T.frameSep])), -1);
  });

  test('nothing follows a whole repr: a str ends at its quote, a container where its bracket closes', () => {
    const after = [...main, callF];
    // Each value is a repr, written into the frame as json.dumps writes it.
    const line = (repr: string): string[] => [T.lineSep, `{"n": "..", "xs": ${JSON.stringify(repr)}}`, T.actionSep, '    total = 0\n', T.frameSep];
    for (const repr of ["'the fox'", "[1, [2, 3], 'a]b']", "{'k': (1, 2)}", '42', 'None', `"it's"`, `'a"b\\'c'`]) {
      assert.equal(refused(after, line(repr)), -1, repr);
    }
    for (const repr of ["'the fox', 'the fox'", '[1, 2], [3]', "('a', 'b')c", "'a' 'b'"]) {
      assert.notEqual(refused(after, line(repr)), -1, repr);
    }
  });

  test('actions: a line of the prompt, a def line for a call, the scope\'s lines otherwise', () => {
    assert.notEqual(refused([...main, callF], [T.lineSep, '{}', T.actionSep, '    total = 1\n', T.frameSep]), -1);
    assert.notEqual(refused(main, [T.callSep, '{}', T.actionSep, '    total = 0\n', T.frameSep]), -1);
    // f's lines are not main's: after f returned, main goes on.
    const returned: TraceFrame = { event: 'return', source: '    return total', value: '9' };
    assert.notEqual(refused([...main, callF, lineF, returned], [T.lineSep, '{}', T.actionSep, '    total = 0\n', T.frameSep]), -1);
    assert.equal(refused([...main, callF, lineF, returned], [T.returnSep, T.actionSep, '    return f([1, 2], 3)\n', T.argSep, '"9"', T.frameSep]), -1);
  });
});

describe('frame-grammar decoding on a real ONNX model', () => {
  let model: ModelBackend;
  before(async () => {
    model = await openModel({ model: TINY, device: 'cpu' });
  });
  after(async () => {
    await model.close();
  });

  test('a random-weight model writes only well-formed frames with the grammar, and noise without it', async () => {
    assert.equal(model.info.constrainedDecoding, true);
    const program = buildPromptProgram(SOURCE, {});
    const lines = new Set(program.source.split('\n'));
    const run = async (grammar: boolean) => {
      const predictor = await Predictor.open(model, program, {}, { grammar, maxTokensPerFrame: 96 });
      try {
        for (let k = 0; k < 8 && !predictor.ended; k++) {
          const result = await predictor.stepFrame();
          if (result.halted === 'truncated') break;
        }
        return predictor.steps;
      } finally {
        predictor.dispose();
      }
    };
    const free = await run(false);
    assert.ok(free.some((step) => !step.frame), 'the random model on its own writes malformed steps');
    const constrained = await run(true);
    assert.ok(constrained.length > 0);
    for (const step of constrained) {
      if (step.truncated) continue; // a value may still run past the token budget
      assert.deepEqual(step.issues, [], step.text);
      assert.ok(step.frame && lines.has(step.frame.source), step.text);
    }
  });
});

test('program facts: a function\'s lines and names are its own, nested bodies apart', () => {
  const source = fs.readFileSync(path.join(REPO_ROOT, 'examples', 'long_words.py'), 'utf8');
  const facts = new ProgramFacts(buildPromptProgram(source, { entry: 'f', args: "'a b', 1" }).source);
  const scope = facts.scopeOfCall('def f(text, n):');
  assert.ok(scope);
  assert.ok(['text', 'n', 'words', 'out', 'w'].every((name) => scope.names.has(name)), [...scope.names].join(' '));
  assert.ok(!scope.names.has('len'), 'a builtin it only calls is no local');
  assert.ok(![...scope.lines].some((line) => facts.lines[line].includes('START_OF_TRACE')));
  assert.equal(facts.scopeOfCall('    words = text.split()'), undefined);
});

test('bound names: what a line binds, not what it only reads', () => {
  const cases: Array<[string, string[]]> = [
    ['    total = len(xs) + offset', ['total']],
    ['    total += x * n', ['total']],
    ['    a, b[i] = b, a', ['a', 'b', 'i']],
    ['    if a == b or c <= d:', []],
    ['    for k, v in sorted(d.items(), key=lambda x: x[0]):', ['k', 'v']],
    ['    out = [w.upper() for w in words if len(w) > n]', ['out', 'w']],
    ['    with open(path) as handle:', ['handle']],
    ['    except ValueError as error:', ['error']],
    ['    while (chunk := read(n)) and chunk != "a = b":', ['chunk']],
    ['def f(text, n=len("x = 1")):', ['f', 'text', 'n', 'len']],
    ['    result = f(x=1) # y = 2', ['result']],
    ['    mask >>= 1', ['mask']],
    ['    import collections as c', ['collections', 'c']],
  ];
  for (const [line, expected] of cases) assert.deepEqual(boundNames(line), expected, line);
});
