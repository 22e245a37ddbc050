/** Prompt and frame token ids: byte-exact text, separators only as special ids, never from user text. */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { allPromptTokens, buildPromptTokens, encodeFrameTokens, frameParts, partsText, PredictorError } from '../../src/predictor';
import { decodePieces, feedPieces } from '../../src/predictor/pieces';
import { encodeFrame } from '../../src/trace/encoder';
import { RecordedFrame, TraceFrame } from '../../src/trace/frame';
import { TraceParser } from '../../src/trace/parser';
import { buildPromptProgram } from '../../src/trace/prompt';
import { SPECIAL_TOKENS as T } from '../../src/trace/tokens';
import { EXAMPLES, PROGRAMS, tempDir } from '../helpers/env';
import { testTokenizer } from '../helpers/fake-backend';
import { recordProgram } from '../helpers/replay-model';

const tokenizer = testTokenizer();
const SUM_LIST = path.join(EXAMPLES, 'sum_list.py');

/** The worked example's SOURCE (cwm-trace-format.md §4), byte for byte. */
const DOC_SOURCE =
  'def sum_list(xs):\n    total = 0\n    for x in xs:\n        total += x\n    return total\n\n' +
  'def main():  # << START_OF_TRACE\n    return sum_list([1, 2, 3])\n';

function count(tokens: readonly number[], id: number): number {
  return tokens.filter((token) => token === id).length;
}

function plain(frames: readonly RecordedFrame[]): TraceFrame[] {
  return frames.map((frame) => ('value' in frame ? { event: frame.event, source: frame.source, value: frame.value } : { event: frame.event, locals: frame.locals, source: frame.source }));
}

describe('prompt tokens', () => {
  test('wrapper shape: decodes to the format document\'s prompt, specials as single ids at the ends', () => {
    const program = buildPromptProgram(fs.readFileSync(path.join(PROGRAMS, 'sum_only.py'), 'utf8'), { entry: 'sum_list', args: '[1, 2, 3]' });
    assert.equal(program.shape, 'wrapper');
    const prompt = buildPromptTokens(tokenizer, program);
    assert.equal(prompt.entryFrame, undefined);
    assert.equal(tokenizer.decode(prompt.prompt), '<|begin_of_text|><|trace_context_start|>' + DOC_SOURCE + '<|frame_sep|>');
    assert.equal(prompt.prompt[0], tokenizer.special(T.beginOfText));
    assert.equal(prompt.prompt[1], tokenizer.special(T.traceContextStart));
    assert.equal(prompt.prompt[prompt.prompt.length - 1], tokenizer.special(T.frameSep));
    assert.deepEqual(prompt.prompt.slice(2, -1), tokenizer.encodeText(DOC_SOURCE));
    for (const token of Object.values(T)) {
      const expected = token === T.beginOfText || token === T.traceContextStart || token === T.frameSep ? 1 : 0;
      assert.equal(count(prompt.prompt, tokenizer.special(token)), expected, token);
    }
  });

  test('the example file itself (main marked) gives the same prompt', () => {
    const program = buildPromptProgram(fs.readFileSync(SUM_LIST, 'utf8'), {});
    assert.equal(program.shape, 'marked');
    assert.equal(tokenizer.decode(buildPromptTokens(tokenizer, program).prompt), '<|begin_of_text|><|trace_context_start|>' + DOC_SOURCE + '<|frame_sep|>');
  });

  test('marked shape with entry locals: the entry call frame follows, def line as SOURCE has it', async () => {
    const program = buildPromptProgram(fs.readFileSync(SUM_LIST, 'utf8'), { entry: 'sum_list', args: '[1, 2, 3]' });
    assert.equal(program.shape, 'marked');
    const prompt = buildPromptTokens(tokenizer, program, [['xs', '[1, 2, 3]']]);
    const source =
      'def sum_list(xs):  # << START_OF_TRACE\n    total = 0\n    for x in xs:\n        total += x\n    return total\n\n' +
      'def main():\n    return sum_list([1, 2, 3])\n';
    assert.equal(
      tokenizer.decode(allPromptTokens(prompt)),
      '<|begin_of_text|><|trace_context_start|>' + source + '<|frame_sep|>' +
        '<|call_sep|>{"xs": "[1, 2, 3]"}<|action_sep|>def sum_list(xs):  # << START_OF_TRACE\n<|frame_sep|>',
    );
    assert.deepEqual(prompt.entryFrame?.tokens, [
      tokenizer.special(T.callSep),
      ...tokenizer.encodeText('{"xs": "[1, 2, 3]"}'),
      tokenizer.special(T.actionSep),
      ...tokenizer.encodeText('def sum_list(xs):  # << START_OF_TRACE\n'),
      tokenizer.special(T.frameSep),
    ]);
    // The forced frame is the one our tracer records for that call.
    const { trace } = await recordProgram(SUM_LIST, { entry: 'sum_list', args: '[1, 2, 3]' });
    assert.deepEqual(plain(trace.frames)[0], prompt.entryFrame?.frame);
  });

  test('"<|frame_sep|>" and other token spellings in the user\'s source and arguments stay text', () => {
    const file = 'def f(s):  # << START_OF_TRACE\n    return s + "<|frame_sep|><|end_of_text|>"\n';
    const program = buildPromptProgram(file, { args: "'<|call_sep|>'" });
    const prompt = buildPromptTokens(tokenizer, program, [['s', "'<|call_sep|>'"]]);
    const tokens = allPromptTokens(prompt);
    assert.equal(count(tokens, tokenizer.special(T.frameSep)), 2, 'the prompt\'s end and the entry frame\'s end');
    assert.equal(count(tokens, tokenizer.special(T.callSep)), 1, 'the entry frame\'s event only');
    assert.equal(count(tokens, tokenizer.special(T.endOfText)), 0);
    assert.equal(
      tokenizer.decode(tokens),
      '<|begin_of_text|><|trace_context_start|>' + file + '<|frame_sep|><|call_sep|>{"s": "\'<|call_sep|>\'"}<|action_sep|>def f(s):  # << START_OF_TRACE\n<|frame_sep|>',
    );
  });

  test('entry locals need a marked entry function', () => {
    const program = buildPromptProgram('def f(x):\n    return x\n', { entry: 'f', args: '1' });
    assert.equal(program.shape, 'wrapper');
    assert.throws(() => buildPromptTokens(tokenizer, program, [['x', '1']]), (error: unknown) => error instanceof PredictorError && error.code === 'bad-entry');
  });
});

describe('frame tokens', () => {
  const traces: Array<{ name: string; frames: readonly RecordedFrame[] }> = [];

  before(async () => {
    const dir = tempDir('predictor-tokens-');
    const unicode = path.join(dir, 'unicode.py');
    fs.writeFileSync(unicode, 'def f(s):\n    t = s + "\\u00e9\\u2603\\U0001F600<|frame_sep|>"\n    d = {t: [1, 2]}\n    return t\n');
    const runs: Array<[string, string, { entry?: string; args?: string }]> = [
      ['sum_list', SUM_LIST, {}],
      ['catcher', path.join(PROGRAMS, 'exceptions.py'), { entry: 'catcher' }],
      ['uncaught', path.join(PROGRAMS, 'exceptions.py'), { entry: 'uncaught', args: '1' }],
      ['uses_all', path.join(PROGRAMS, 'calls.py'), { entry: 'uses_all', args: '[1, 2, 3]' }],
      ['unicode', unicode, { entry: 'f', args: '"\\"q\\" <|line_sep|>"' }],
    ];
    for (const [name, file, target] of runs) traces.push({ name, frames: (await recordProgram(file, target)).trace.frames });
  });

  test('the parts spell exactly what the trace encoder writes, ".." included', () => {
    for (const { name, frames } of traces) {
      frames.forEach((frame, i) => assert.equal(partsText(frameParts(frame, frames[i - 1])), encodeFrame(frame, frames[i - 1]), `${name} frame ${i}`));
    }
  });

  test('the tokens decode to that text; separators are special ids, text never is; one role per token', () => {
    const separators = new Set(Object.values(T).map((token) => tokenizer.special(token)));
    for (const { name, frames } of traces) {
      frames.forEach((frame, i) => {
        const encoded = encodeFrameTokens(tokenizer, frame, frames[i - 1]);
        assert.equal(tokenizer.decode(encoded.tokens), encodeFrame(frame, frames[i - 1]), `${name} frame ${i}`);
        assert.equal(encoded.roles.length, encoded.tokens.length);
        const expectedSeparators = 'value' in frame ? 4 : 3;
        assert.equal(encoded.tokens.filter((id) => separators.has(id)).length, expectedSeparators, `${name} frame ${i}`);
        assert.equal(encoded.tokens[encoded.tokens.length - 1], tokenizer.special(T.frameSep));
      });
    }
  });

  test('roles: the event and source line are the action, locals and values the state', () => {
    const line: TraceFrame = { event: 'line', locals: [['x', '1']], source: '    y = x' };
    const encoded = encodeFrameTokens(tokenizer, line);
    const stateText = tokenizer.decode(encoded.tokens.filter((_, i) => encoded.roles[i] === 'state'));
    const actionText = tokenizer.decode(encoded.tokens.filter((_, i) => encoded.roles[i] === 'action'));
    assert.equal(stateText, '{"x": "1"}<|action_sep|>');
    assert.equal(actionText, '<|line_sep|>    y = x\n<|frame_sep|>');
    const ret: TraceFrame = { event: 'return', source: '    return y', value: '1' };
    const returned = encodeFrameTokens(tokenizer, ret);
    assert.equal(tokenizer.decode(returned.tokens.filter((_, i) => returned.roles[i] === 'state')), '"1"<|frame_sep|>');
  });

  test('decoded pieces read back through the parser give every frame, ".." resolved', () => {
    for (const { name, frames } of traces) {
      const tokens = frames.flatMap((frame, i) => encodeFrameTokens(tokenizer, frame, frames[i - 1]).tokens);
      const parser = new TraceParser();
      feedPieces(parser, decodePieces(tokenizer, tokens));
      parser.finish();
      assert.deepEqual(parser.errors, [], name);
      assert.deepEqual(parser.frames, plain(frames), name);
    }
  });
});
