/** Judging one teacher-forced prediction: what counts as a valid frame, and how ".." is read. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { judgePrediction, Generated } from '../../src/eval/judge';
import { encodeFrameTokens } from '../../src/predictor/frame-tokens';
import type { TraceFrame } from '../../src/trace/frame';
import { SPECIAL_TOKENS as T } from '../../src/trace/tokens';
import { testTokenizer } from '../helpers/fake-backend';

const tokenizer = testTokenizer();
const END = tokenizer.special(T.endOfText);
const EOT = tokenizer.idOf('<|eot_id|>');
const END_IDS = new Set([END, ...(EOT !== undefined ? [EOT] : [])]);

const CALL: TraceFrame = { event: 'call', locals: [['xs', '[1, 2]']], source: 'def f(xs):' };
const LINE: TraceFrame = { event: 'line', locals: [['xs', '[1, 2]']], source: '    total = 0' };
const NEXT: TraceFrame = { event: 'line', locals: [['xs', '[1, 2]'], ['total', '0']], source: '    for x in xs:' };
const RETURN: TraceFrame = { event: 'return', source: '    return total', value: '3' };

/** The model wrote `frame` (after `previous`, for ".."), ended by <|frame_sep|>. */
function wrote(frame: TraceFrame, previous?: TraceFrame): Generated {
  return { tokens: encodeFrameTokens(tokenizer, frame, previous).tokens, finishReason: 'stop' };
}

function text(value: string, ...specials: string[]): Generated {
  return { tokens: [...tokenizer.encodeText(value), ...specials.map((token) => tokenizer.idOf(token) ?? -1)], finishReason: 'stop' };
}

describe('judging a predicted frame', () => {
  test('the real frame, with ".." for what did not change, is valid and matches both ways', () => {
    const generated = wrote(NEXT, LINE);
    assert.match(tokenizer.decode(generated.tokens), /"xs": "\.\."/);
    const judged = judgePrediction(tokenizer, END_IDS, generated, LINE, NEXT);
    assert.deepEqual({ ...judged, text: undefined }, { valid: true, ended: false, action: true, state: true, text: undefined });
    assert.equal(judged.text, tokenizer.decode(generated.tokens));
  });

  test('".." is read against the real previous frame, not against what the model said before', () => {
    // The real previous frame holds xs = [1, 2]: "..", "unchanged", is that value.
    const changed: TraceFrame = { event: 'line', locals: [['xs', '[9]'], ['total', '0']], source: NEXT.source };
    assert.equal(judgePrediction(tokenizer, END_IDS, wrote(NEXT, LINE), LINE, changed).state, false);
    assert.equal(judgePrediction(tokenizer, END_IDS, wrote(NEXT, LINE), LINE, NEXT).state, true);
  });

  test('a ".." with nothing to stand for keeps the format valid but misses the state', () => {
    // After a return frame there is no activation to resolve against.
    const judged = judgePrediction(tokenizer, END_IDS, wrote(NEXT, LINE), RETURN, NEXT);
    assert.deepEqual([judged.valid, judged.action, judged.state], [true, true, false]);
    const first = judgePrediction(tokenizer, END_IDS, wrote(NEXT, LINE), undefined, NEXT);
    assert.deepEqual([first.valid, first.state], [true, false]);
  });

  test('a value that spells a special token stays text: the token ids decide where a frame ends', () => {
    const tricky: TraceFrame = { event: 'line', locals: [['s', "'<|frame_sep|><|line_sep|>'"]], source: '    s = s' };
    const previous: TraceFrame = { event: 'line', locals: [['s', "'<|frame_sep|>'"]], source: '    s = s + "<|line_sep|>"' };
    const judged = judgePrediction(tokenizer, END_IDS, wrote(tricky, previous), previous, tricky);
    assert.deepEqual([judged.valid, judged.action, judged.state], [true, true, true]);
  });

  test('return values and call frames with or without the START_OF_TRACE comment', () => {
    assert.deepEqual(pick(judgePrediction(tokenizer, END_IDS, wrote(RETURN), NEXT, RETURN)), [true, true, true]);
    assert.deepEqual(pick(judgePrediction(tokenizer, END_IDS, wrote({ ...RETURN, value: '4' }), NEXT, RETURN)), [true, true, false]);
    const marked: TraceFrame = { event: 'call', locals: [], source: 'def main():  # << START_OF_TRACE' };
    assert.deepEqual(pick(judgePrediction(tokenizer, END_IDS, wrote({ ...marked, source: 'def main():' }), undefined, marked)), [true, true, true]);
    assert.deepEqual(pick(judgePrediction(tokenizer, END_IDS, wrote(CALL), undefined, { ...CALL, source: 'def g(xs):' })), [true, false, true]);
  });

  test('a bare end of trace is a well-formed prediction that matches nothing', () => {
    for (const id of END_IDS) {
      const judged = judgePrediction(tokenizer, END_IDS, { tokens: [id], finishReason: 'stop' }, LINE, NEXT);
      assert.deepEqual([judged.valid, judged.ended, judged.action, judged.state], [true, true, false, false]);
    }
  });

  test('everything else is invalid, and says why', () => {
    const cases: Array<[Generated, RegExp]> = [
      [{ tokens: wrote(NEXT, LINE).tokens.slice(0, -1), finishReason: 'length' }, /did not end within/],
      [{ tokens: wrote(NEXT, LINE).tokens.slice(0, -1), finishReason: 'context' }, /context/],
      [{ tokens: [...wrote(NEXT, LINE).tokens.slice(0, 4), END], finishReason: 'stop' }, /ended inside a frame/],
      [text('well, ', T.lineSep, T.actionSep, T.frameSep), /^text "w.*" where a frame should begin/],
      [text('', T.frameSep), /<\|frame_sep\|> where a frame should begin/],
      [{ tokens: [tokenizer.special(T.lineSep), ...tokenizer.encodeText('{"xs": 1}'), tokenizer.special(T.actionSep), ...tokenizer.encodeText('x\n'), tokenizer.special(T.frameSep)], finishReason: 'stop' }, /not a JSON object of strings/],
      [{ tokens: [tokenizer.special(T.returnSep), tokenizer.special(T.actionSep), ...tokenizer.encodeText('x\n'), tokenizer.special(T.frameSep)], finishReason: 'stop' }, /<\|frame_sep\|> where <\|arg_sep\|> belongs/],
    ];
    for (const [generated, why] of cases) {
      const judged = judgePrediction(tokenizer, END_IDS, generated, LINE, NEXT);
      assert.deepEqual([judged.valid, judged.ended, judged.action, judged.state], [false, false, false, false], tokenizer.decode(generated.tokens));
      assert.match(judged.issue ?? '', why);
    }
  });
});

function pick(judged: { valid: boolean; action: boolean; state: boolean }): boolean[] {
  return [judged.valid, judged.action, judged.state];
}
