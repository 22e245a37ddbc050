/**
 * The incremental CWM trace parser: the worked example of cwm-trace-format.md §4, streaming in any
 * chunking, every structured error kind with recovery, ".." resolution per activation, the prompt
 * prefix, the token-level API, an encoder round trip, and a seeded fuzz.
 *
 * Random tests use a seeded PRNG. Set TEST_SEED=<number> to rerun with another seed; every failure
 * message names the seed and the case number that failed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeTrace,
  ParseError,
  ParseErrorKind,
  ParseEvent,
  parseTrace,
  SPECIAL_TOKENS as T,
  TraceFrame,
  TraceParser,
} from '../../src/trace';
import { Random, seedFromEnv } from '../helpers/random';

// ---------------------------------------------------------------------------------------------------
// Seeded randomness

const SEED = seedFromEnv(0x5eed2024);

/** A per-case seed, so that one failing case can be rerun alone. */
function caseSeed(seed: number, index: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
}

// ---------------------------------------------------------------------------------------------------
// Hand-written frame text (deliberately not the encoder)

const nl = '\n';
function callText(localsJson: string, source: string): string {
  return T.callSep + localsJson + T.actionSep + source + nl + T.frameSep;
}
function lineText(localsJson: string, source: string): string {
  return T.lineSep + localsJson + T.actionSep + source + nl + T.frameSep;
}
function returnText(source: string, valueJson: string): string {
  return T.returnSep + T.actionSep + source + nl + T.argSep + valueJson + T.frameSep;
}
function exceptionText(source: string, valueJson: string): string {
  return T.exceptionSep + T.actionSep + source + nl + T.argSep + valueJson + T.frameSep;
}

function callFrame(locals: Array<[string, string]>, source: string): TraceFrame {
  return { event: 'call', locals, source };
}
function lineFrame(locals: Array<[string, string]>, source: string): TraceFrame {
  return { event: 'line', locals, source };
}
function returnFrame(source: string, value: string): TraceFrame {
  return { event: 'return', source, value };
}
function exceptionFrame(source: string, value: string): TraceFrame {
  return { event: 'exception', source, value };
}

// ---------------------------------------------------------------------------------------------------
// Feeding helpers and invariants

interface Run {
  readonly parser: TraceParser;
  readonly events: ParseEvent[];
}

/** Feeds `text` through feedText in chunks whose sizes `size()` picks, then finish(). */
function feedInChunks(text: string, size: () => number): Run {
  const parser = new TraceParser();
  const events: ParseEvent[] = [];
  for (let at = 0; at < text.length; ) {
    const n = Math.max(1, size());
    events.push(...parser.feedText(text.slice(at, at + n)));
    at += n;
  }
  events.push(...parser.finish());
  return { parser, events };
}

function feedWhole(text: string): Run {
  return feedInChunks(text, () => text.length);
}

function randomChunkSize(rng: Random): number {
  const r = rng.next();
  if (r < 0.45) return rng.int(1, 4);
  if (r < 0.8) return rng.int(5, 32);
  return rng.int(33, 400);
}

const KNOWN_KINDS: Readonly<Record<ParseErrorKind, true>> = {
  'unexpected-text': true,
  'unexpected-token': true,
  'unknown-token': true,
  'missing-separator': true,
  'bad-json': true,
  'truncated-frame': true,
  'eos-mid-frame': true,
  'unresolved-unchanged': true,
  'after-end': true,
};

function isKnownKind(kind: string): kind is ParseErrorKind {
  return Object.prototype.hasOwnProperty.call(KNOWN_KINDS, kind);
}

/** Returns a description of the first broken invariant, or undefined when all hold. */
function invariantViolation(run: Run): string | undefined {
  const { parser, events } = run;
  let frameEvents = 0;
  let endEvents = 0;
  const errors: ParseError[] = [];
  for (const event of events) {
    switch (event.type) {
      case 'frame': {
        if (endEvents > 0) return 'a frame event after the end event';
        if (event.index !== frameEvents) return `frame event index ${event.index}, expected ${frameEvents}`;
        if (parser.frames[event.index] !== event.frame) return `frame event ${event.index} is not parser.frames[${event.index}]`;
        const problem = frameProblem(event.frame);
        if (problem) return `frame ${event.index}: ${problem}`;
        frameEvents++;
        break;
      }
      case 'error': {
        const error = event.error;
        if (!isKnownKind(error.kind)) return `unknown error kind ${JSON.stringify(error.kind)}`;
        if (typeof error.message !== 'string' || error.message === '') return 'an error without a message';
        if (error.frameIndex !== frameEvents) return `error frameIndex ${error.frameIndex}, expected ${frameEvents}`;
        errors.push(error);
        break;
      }
      case 'end':
        endEvents++;
        break;
      default:
        return `unknown event ${JSON.stringify(event)}`;
    }
  }
  if (parser.frames.length !== frameEvents) return `parser.frames.length ${parser.frames.length} but ${frameEvents} frame events`;
  if (endEvents > 1) return `${endEvents} end events`;
  if (parser.ended !== (endEvents === 1)) return `parser.ended is ${parser.ended} but ${endEvents} end events`;
  if (parser.errors.length !== errors.length || parser.errors.some((e, i) => e !== errors[i])) return 'parser.errors differs from the error events';
  if (!parser.atFrameBoundary) return 'not at a frame boundary after finish()';
  return undefined;
}

function frameProblem(frame: TraceFrame): string | undefined {
  if (typeof frame.source !== 'string') return 'source is not a string';
  switch (frame.event) {
    case 'call':
    case 'line':
      if (!Array.isArray(frame.locals)) return 'locals is not an array';
      for (const local of frame.locals) {
        if (!Array.isArray(local) || local.length !== 2 || typeof local[0] !== 'string' || typeof local[1] !== 'string') {
          return `bad local ${JSON.stringify(local)}`;
        }
      }
      if (new Set(frame.locals.map(([name]) => name)).size !== frame.locals.length) return 'duplicate local names';
      if ('value' in frame) return 'a call/line frame with a value';
      return undefined;
    case 'return':
    case 'exception':
      if (typeof frame.value !== 'string') return 'value is not a string';
      if ('locals' in frame) return 'a return/exception frame with locals';
      return undefined;
    default:
      return `unknown event ${JSON.stringify((frame as { event: unknown }).event)}`;
  }
}

function errorSummary(parser: TraceParser): Array<[ParseErrorKind, number]> {
  return parser.errors.map((e) => [e.kind, e.frameIndex]);
}

function eventShape(events: readonly ParseEvent[]): string[] {
  return events.map((e) => (e.type === 'frame' ? `frame ${e.index}` : e.type === 'error' ? `error ${e.error.kind}@${e.error.frameIndex}` : 'end'));
}

// ---------------------------------------------------------------------------------------------------
// The worked example of cwm-trace-format.md §4, with the x = 2 and x = 3 iterations written out

const EXAMPLE_SOURCE = [
  'def sum_list(xs):',
  '    total = 0',
  '    for x in xs:',
  '        total += x',
  '    return total',
  '',
  'def main():  # << START_OF_TRACE',
  '    return sum_list([1, 2, 3])',
  '',
].join('\n');

const EXAMPLE_LINES = [
  '<|call_sep|>{}<|action_sep|>def main():  # << START_OF_TRACE\n<|frame_sep|>',
  '<|line_sep|>{}<|action_sep|>    return sum_list([1, 2, 3])\n<|frame_sep|>',
  '<|call_sep|>{"xs": "[1, 2, 3]"}<|action_sep|>def sum_list(xs):\n<|frame_sep|>',
  '<|line_sep|>{"xs": ".."}<|action_sep|>    total = 0\n<|frame_sep|>',
  '<|line_sep|>{"xs": "..", "total": "0"}<|action_sep|>    for x in xs:\n<|frame_sep|>',
  '<|line_sep|>{"xs": "..", "total": "..", "x": "1"}<|action_sep|>        total += x\n<|frame_sep|>',
  '<|line_sep|>{"xs": "..", "total": "1", "x": ".."}<|action_sep|>    for x in xs:\n<|frame_sep|>',
  '<|line_sep|>{"xs": "..", "total": "..", "x": "2"}<|action_sep|>        total += x\n<|frame_sep|>',
  '<|line_sep|>{"xs": "..", "total": "3", "x": ".."}<|action_sep|>    for x in xs:\n<|frame_sep|>',
  '<|line_sep|>{"xs": "..", "total": "..", "x": "3"}<|action_sep|>        total += x\n<|frame_sep|>',
  '<|line_sep|>{"xs": "..", "total": "6", "x": ".."}<|action_sep|>    for x in xs:\n<|frame_sep|>',
  '<|line_sep|>{"xs": "..", "total": "..", "x": ".."}<|action_sep|>    return total\n<|frame_sep|>',
  '<|return_sep|><|action_sep|>    return total\n<|arg_sep|>"6"<|frame_sep|>',
  '<|return_sep|><|action_sep|>    return sum_list([1, 2, 3])\n<|arg_sep|>"6"<|frame_sep|>',
  '<|end_of_text|>',
];
const EXAMPLE_TEXT = EXAMPLE_LINES.join('');

const XS: [string, string] = ['xs', '[1, 2, 3]'];
const EXAMPLE_FRAMES: TraceFrame[] = [
  callFrame([], 'def main():  # << START_OF_TRACE'),
  lineFrame([], '    return sum_list([1, 2, 3])'),
  callFrame([XS], 'def sum_list(xs):'),
  lineFrame([XS], '    total = 0'),
  lineFrame([XS, ['total', '0']], '    for x in xs:'),
  lineFrame([XS, ['total', '0'], ['x', '1']], '        total += x'),
  lineFrame([XS, ['total', '1'], ['x', '1']], '    for x in xs:'),
  lineFrame([XS, ['total', '1'], ['x', '2']], '        total += x'),
  lineFrame([XS, ['total', '3'], ['x', '2']], '    for x in xs:'),
  lineFrame([XS, ['total', '3'], ['x', '3']], '        total += x'),
  lineFrame([XS, ['total', '6'], ['x', '3']], '    for x in xs:'),
  lineFrame([XS, ['total', '6'], ['x', '3']], '    return total'),
  returnFrame('    return total', '6'),
  returnFrame('    return sum_list([1, 2, 3])', '6'),
];

describe('worked example (cwm-trace-format.md §4)', () => {
  test('parses into the right frames with ".." resolved', () => {
    const run = feedWhole(EXAMPLE_TEXT);
    assert.deepEqual(run.parser.frames, EXAMPLE_FRAMES);
    assert.deepEqual(run.parser.errors, []);
    assert.equal(run.parser.ended, true);
    assert.equal(run.parser.context, undefined);
    assert.deepEqual(eventShape(run.events), [...EXAMPLE_FRAMES.map((_, i) => `frame ${i}`), 'end']);
    assert.equal(invariantViolation(run), undefined);
  });

  test('parseTrace gives the same result', () => {
    const parser = parseTrace(EXAMPLE_TEXT);
    assert.deepEqual(parser.frames, EXAMPLE_FRAMES);
    assert.deepEqual(parser.errors, []);
    assert.equal(parser.ended, true);
  });

  test('frames are reported as soon as their <|frame_sep|> arrives, not before', () => {
    const parser = new TraceParser();
    let seen = 0;
    for (const [i, frameText] of EXAMPLE_LINES.slice(0, -1).entries()) {
      const cut = frameText.length - T.frameSep.length;
      assert.deepEqual(parser.feedText(frameText.slice(0, cut)), [], `frame ${i} reported before its <|frame_sep|>`);
      assert.equal(parser.atFrameBoundary, false);
      const events = parser.feedText(T.frameSep);
      assert.deepEqual(events, [{ type: 'frame', frame: EXAMPLE_FRAMES[i], index: i }]);
      assert.equal(parser.atFrameBoundary, true);
      seen++;
    }
    assert.equal(seen, EXAMPLE_FRAMES.length);
    assert.equal(parser.ended, false);
    assert.deepEqual(parser.feedText(T.endOfText), [{ type: 'end' }]);
    assert.equal(parser.ended, true);
  });

  test('one character at a time gives identical results', () => {
    const whole = feedWhole(EXAMPLE_TEXT);
    const single = feedInChunks(EXAMPLE_TEXT, () => 1);
    assert.deepEqual(single.events, whole.events);
    assert.deepEqual(single.parser.frames, EXAMPLE_FRAMES);
    assert.deepEqual(single.parser.errors, []);
    assert.equal(single.parser.ended, true);
  });

  test('every cut into two chunks (inside special tokens too) gives identical results', () => {
    const whole = feedWhole(EXAMPLE_TEXT);
    // Make sure the cuts below really do fall inside tokens such as "<|fra" + "me_sep|>".
    const insideToken = EXAMPLE_TEXT.indexOf(T.frameSep) + '<|fra'.length;
    assert.equal(EXAMPLE_TEXT.slice(insideToken - 5, insideToken), '<|fra');
    for (let cut = 0; cut <= EXAMPLE_TEXT.length; cut++) {
      const parser = new TraceParser();
      const events = [...parser.feedText(EXAMPLE_TEXT.slice(0, cut)), ...parser.feedText(EXAMPLE_TEXT.slice(cut)), ...parser.finish()];
      assert.deepEqual(events, whole.events, `cut at ${cut}: ${JSON.stringify(EXAMPLE_TEXT.slice(Math.max(0, cut - 8), cut))} | ${JSON.stringify(EXAMPLE_TEXT.slice(cut, cut + 8))}`);
    }
  });

  test('random chunk sizes give identical results', (t) => {
    t.diagnostic(`seed ${SEED}`);
    const whole = feedWhole(EXAMPLE_TEXT);
    for (let i = 0; i < 300; i++) {
      const rng = new Random(caseSeed(SEED, i));
      const run = feedInChunks(EXAMPLE_TEXT, () => randomChunkSize(rng));
      assert.deepEqual(run.events, whole.events, `seed ${SEED}, case ${i}`);
      assert.deepEqual(run.parser.frames, EXAMPLE_FRAMES);
    }
  });

  test('line breaks between frames (the display form) are ignored', () => {
    const parser = parseTrace('\n' + EXAMPLE_LINES.join('\n'));
    assert.deepEqual(parser.frames, EXAMPLE_FRAMES);
    assert.deepEqual(parser.errors, []);
  });

  test('with the prompt in front, the frames are the same and the context is the source', () => {
    const prompt = '<|begin_of_text|><|trace_context_start|>' + EXAMPLE_SOURCE + '<|frame_sep|>';
    const whole = feedWhole(prompt + EXAMPLE_TEXT);
    assert.deepEqual(whole.parser.frames, EXAMPLE_FRAMES);
    assert.equal(whole.parser.context, EXAMPLE_SOURCE);
    assert.deepEqual(whole.parser.errors, []);
    const single = feedInChunks(prompt + EXAMPLE_TEXT, () => 1);
    assert.deepEqual(single.events, whole.events);
    assert.equal(single.parser.context, EXAMPLE_SOURCE);
  });
});

// ---------------------------------------------------------------------------------------------------
// Structured errors

const TAIL_TEXT = lineText('{"k": "1"}', 'tail()');
const TAIL_FRAME = lineFrame([['k', '1']], 'tail()');

interface ErrorCase {
  readonly name: string;
  readonly input: string;
  readonly errors: Array<[ParseErrorKind, number]>;
  readonly frames: TraceFrame[];
  readonly message?: RegExp;
  readonly ended?: boolean;
}

/** Every ParseErrorKind must have at least one case (the Record type enforces it at compile time). */
const ERROR_CASES: Record<ParseErrorKind, ErrorCase[]> = {
  'bad-json': [
    { name: 'locals with a trailing comma', input: lineText('{"a": "1",}', 'x = 1') + TAIL_TEXT, errors: [['bad-json', 0]], frames: [TAIL_FRAME] },
    { name: 'locals that are not JSON', input: callText("{'a': '1'}", 'def f(a):') + TAIL_TEXT, errors: [['bad-json', 0]], frames: [TAIL_FRAME] },
    { name: 'locals with an unterminated string', input: lineText('{"a": "1}', 'x') + TAIL_TEXT, errors: [['bad-json', 0]], frames: [TAIL_FRAME] },
    { name: 'locals that are an array', input: lineText('["a", "1"]', 'x') + TAIL_TEXT, errors: [['bad-json', 0]], frames: [TAIL_FRAME] },
    { name: 'locals with text after the object', input: lineText('{"a": "1"} x', 'x') + TAIL_TEXT, errors: [['bad-json', 0]], frames: [TAIL_FRAME] },
    { name: 'non-string value', input: lineText('{"a": 1}', 'x = 1') + TAIL_TEXT, errors: [['bad-json', 0]], frames: [TAIL_FRAME], message: /not a string/ },
    { name: 'null value', input: callText('{"a": null}', 'def f(a):') + TAIL_TEXT, errors: [['bad-json', 0]], frames: [TAIL_FRAME], message: /not a string/ },
    { name: 'duplicate key', input: lineText('{"a": "1", "a": "2"}', 'x = 1') + TAIL_TEXT, errors: [['bad-json', 0]], frames: [TAIL_FRAME], message: /duplicate key "a"/ },
    { name: 'duplicate key spelled with an escape', input: lineText('{"a": "1", "\\u0061": "2"}', 'x') + TAIL_TEXT, errors: [['bad-json', 0]], frames: [TAIL_FRAME], message: /duplicate key/ },
    { name: 'return value that is not a JSON string', input: returnText('    return x', "'6'") + TAIL_TEXT, errors: [['bad-json', 0]], frames: [TAIL_FRAME] },
    { name: 'return value that is a number', input: returnText('    return x', '6') + TAIL_TEXT, errors: [['bad-json', 0]], frames: [TAIL_FRAME] },
    { name: 'exception value with a raw control character', input: exceptionText('    raise E', '"a\u0001b"') + TAIL_TEXT, errors: [['bad-json', 0]], frames: [TAIL_FRAME] },
  ],
  'missing-separator': [
    { name: 'call frame without <|action_sep|>', input: T.callSep + '{}def f():\n' + T.frameSep + TAIL_TEXT, errors: [['missing-separator', 0]], frames: [TAIL_FRAME] },
    { name: 'return frame without <|action_sep|>', input: T.returnSep + '    return 1\n' + T.argSep + '"1"' + T.frameSep + TAIL_TEXT, errors: [['missing-separator', 0]], frames: [TAIL_FRAME] },
    { name: '<|frame_sep|> before <|arg_sep|>', input: T.returnSep + T.actionSep + '    return 1\n' + T.frameSep + TAIL_TEXT, errors: [['missing-separator', 0]], frames: [TAIL_FRAME] },
    { name: '<|arg_sep|> in a line frame', input: T.lineSep + '{}' + T.actionSep + 'x\n' + T.argSep + '"1"' + T.frameSep + TAIL_TEXT, errors: [['missing-separator', 0]], frames: [TAIL_FRAME] },
    { name: 'two <|action_sep|> in a return frame', input: T.returnSep + T.actionSep + T.actionSep + 'r\n' + T.argSep + '"1"' + T.frameSep + TAIL_TEXT, errors: [['missing-separator', 0]], frames: [TAIL_FRAME] },
  ],
  'truncated-frame': [
    { name: 'input ends inside a line frame (finish)', input: TAIL_TEXT + T.lineSep + '{"a": "1"}' + T.actionSep + 'x = ', errors: [['truncated-frame', 1]], frames: [TAIL_FRAME] },
    { name: 'input ends inside a return value (finish)', input: TAIL_TEXT + T.returnSep + T.actionSep + 'return 1\n' + T.argSep + '"1', errors: [['truncated-frame', 1]], frames: [TAIL_FRAME] },
    { name: 'a new line event inside a line frame', input: T.lineSep + '{"a": "1"}' + T.actionSep + 'x = ' + TAIL_TEXT, errors: [['truncated-frame', 0]], frames: [TAIL_FRAME] },
    { name: 'a new call event inside locals', input: T.lineSep + '{"a": "1' + callText('{}', 'def g():'), errors: [['truncated-frame', 0]], frames: [callFrame([], 'def g():')] },
    { name: 'a new return event inside a return value', input: T.returnSep + T.actionSep + 'r\n' + T.argSep + '"1' + returnText('r2', '"2"'), errors: [['truncated-frame', 0]], frames: [returnFrame('r2', '2')] },
  ],
  'eos-mid-frame': [
    { name: '<|end_of_text|> inside a line frame', input: TAIL_TEXT + T.lineSep + '{}' + T.actionSep + 'x\n' + T.endOfText, errors: [['eos-mid-frame', 1]], frames: [TAIL_FRAME], ended: true },
    { name: '<|end_of_text|> inside a return frame', input: T.returnSep + T.actionSep + 'r\n' + T.argSep + '"1"' + T.endOfText, errors: [['eos-mid-frame', 0]], frames: [], ended: true },
  ],
  'unknown-token': [
    { name: '<|eot_id|> between frames', input: TAIL_TEXT + '<|eot_id|>' + TAIL_TEXT, errors: [['unknown-token', 1]], frames: [TAIL_FRAME, TAIL_FRAME], message: /<\|eot_id\|>/ },
    { name: '<|eot_id|> inside a frame', input: T.lineSep + '{}' + T.actionSep + 'x<|eot_id|>\n' + T.frameSep + TAIL_TEXT, errors: [['unknown-token', 0]], frames: [TAIL_FRAME] },
    { name: 'a reserved token at the start', input: '<|reserved_special_token_7|>' + TAIL_TEXT, errors: [['unknown-token', 0]], frames: [TAIL_FRAME] },
  ],
  'unresolved-unchanged': [
    { name: '".." in a call frame', input: callText('{"a": ".."}', 'def f(a):') + TAIL_TEXT, errors: [['unresolved-unchanged', 0]], frames: [callFrame([['a', '..']], 'def f(a):'), TAIL_FRAME], message: /"a"/ },
    { name: '".." in the first line frame', input: lineText('{"b": ".."}', 'y') + TAIL_TEXT, errors: [['unresolved-unchanged', 0]], frames: [lineFrame([['b', '..']], 'y'), TAIL_FRAME] },
    {
      name: '".." for a variable new in this activation',
      input: callText('{"a": "1"}', 'def f(a):') + lineText('{"a": "..", "b": ".."}', '    return a'),
      errors: [['unresolved-unchanged', 1]],
      frames: [callFrame([['a', '1']], 'def f(a):'), lineFrame([['a', '1'], ['b', '..']], '    return a')],
      message: /"b"/,
    },
  ],
  'after-end': [
    { name: 'frames after <|end_of_text|>', input: TAIL_TEXT + T.endOfText + 'junk' + TAIL_TEXT + T.endOfText, errors: [['after-end', 1]], frames: [TAIL_FRAME], ended: true },
    { name: 'an unknown token after <|end_of_text|>', input: T.endOfText + '<|eot_id|>', errors: [['after-end', 0]], frames: [], ended: true },
  ],
  'unexpected-text': [
    { name: 'stray text between frames', input: TAIL_TEXT + 'garbage' + TAIL_TEXT, errors: [['unexpected-text', 1]], frames: [TAIL_FRAME, TAIL_FRAME] },
    { name: 'stray text before the first frame', input: 'hello ' + TAIL_TEXT, errors: [['unexpected-text', 0]], frames: [TAIL_FRAME] },
    { name: 'stray text closed by its own <|frame_sep|>', input: TAIL_TEXT + 'oops' + T.frameSep + TAIL_TEXT, errors: [['unexpected-text', 1]], frames: [TAIL_FRAME, TAIL_FRAME] },
    { name: 'an unfinished token at the very end', input: TAIL_TEXT + '<|line_s', errors: [['unexpected-text', 1]], frames: [TAIL_FRAME] },
  ],
  'unexpected-token': [
    { name: '<|action_sep|> where a frame should begin', input: TAIL_TEXT + T.actionSep + 'x\n' + T.frameSep + TAIL_TEXT, errors: [['unexpected-token', 1]], frames: [TAIL_FRAME, TAIL_FRAME] },
    { name: 'an empty frame (two <|frame_sep|>)', input: TAIL_TEXT + T.frameSep + TAIL_TEXT, errors: [['unexpected-token', 1]], frames: [TAIL_FRAME, TAIL_FRAME] },
    { name: '<|begin_of_text|> between frames', input: TAIL_TEXT + T.beginOfText + TAIL_TEXT, errors: [['unexpected-token', 1]], frames: [TAIL_FRAME, TAIL_FRAME] },
    { name: 'a frame token inside the prompt source', input: T.traceContextStart + 'a' + T.lineSep + 'b' + T.frameSep + TAIL_TEXT, errors: [['unexpected-token', 0]], frames: [TAIL_FRAME] },
  ],
};

describe('structured errors', () => {
  for (const [kind, cases] of Object.entries(ERROR_CASES)) {
    describe(kind, () => {
      test('has at least one case', () => assert.ok(cases.length > 0));
      for (const c of cases) {
        test(c.name, () => {
          const whole = feedWhole(c.input);
          assert.deepEqual(errorSummary(whole.parser), c.errors, whole.parser.errors.map((e) => e.message).join('\n'));
          assert.deepEqual(whole.parser.frames, c.frames);
          assert.equal(whole.parser.ended, c.ended ?? false);
          if (c.message) assert.match(whole.parser.errors[0].message, c.message);
          assert.equal(invariantViolation(whole), undefined);
          // The same input one character at a time: same frames, same errors at the same frames.
          const single = feedInChunks(c.input, () => 1);
          assert.deepEqual(single.parser.frames, c.frames);
          assert.deepEqual(errorSummary(single.parser), c.errors);
          assert.equal(invariantViolation(single), undefined);
        });
      }
    });
  }

  test('stray text closed by <|frame_sep|> is one bad frame; the next stray text is another', () => {
    const parser = new TraceParser();
    parser.feedText('garbage' + T.frameSep + 'more garbage' + T.frameSep);
    parser.feedPlain('and more');
    parser.feedToken(T.frameSep);
    parser.finish();
    assert.deepEqual(errorSummary(parser), [['unexpected-text', 0], ['unexpected-text', 0], ['unexpected-text', 0]]);
    assert.equal(parser.errors.length, 3);
  });

  test('an error is reported in the event stream before the frame that follows it', () => {
    const parser = new TraceParser();
    const events = parser.feedText(lineText('{"a": 1}', 'x') + TAIL_TEXT);
    assert.deepEqual(eventShape(events), ['error bad-json@0', 'frame 0']);
  });

  test('stray text is reported once per gap, however it is chunked', () => {
    const parser = new TraceParser();
    parser.feedText(TAIL_TEXT);
    parser.feedText('abc');
    parser.feedText('def');
    parser.feedText(' ghi ');
    parser.feedText(TAIL_TEXT + 'again');
    parser.finish();
    assert.deepEqual(errorSummary(parser), [['unexpected-text', 1], ['unexpected-text', 2]]);
    assert.equal(parser.frames.length, 2);
  });

  test('text after <|end_of_text|> is reported once', () => {
    const parser = new TraceParser();
    parser.feedText(T.endOfText);
    parser.feedText('a');
    parser.feedText(TAIL_TEXT);
    parser.feedToken('<|eot_id|>');
    parser.feedPlain('b');
    parser.finish();
    assert.deepEqual(errorSummary(parser), [['after-end', 0]]);
    assert.deepEqual(parser.frames, []);
  });

  test('finish() between frames adds no error', () => {
    const parser = new TraceParser();
    parser.feedText(TAIL_TEXT + '  \n');
    assert.deepEqual(parser.finish(), []);
    assert.deepEqual(parser.errors, []);
  });
});

// ---------------------------------------------------------------------------------------------------
// ".." resolution per activation

describe('".." resolution against a shadow state per activation', () => {
  const MAIN = 'def main():  # << START_OF_TRACE';
  const prelude =
    callText('{}', MAIN) +
    lineText('{}', '    a = 1') +
    lineText('{"a": "1"}', '    b = f(100)') +
    callText('{"a": "100"}', 'def f(a):') +
    lineText('{"a": ".."}', '    a += 1') +
    lineText('{"a": "101"}', '    return a') +
    returnText('    return a', '"101"');

  test('a caller line with ".." after the callee returns resolves to the caller\'s own pre-call value', () => {
    const parser = parseTrace(prelude + lineText('{"a": "..", "b": "101"}', '    return a + b'));
    assert.deepEqual(parser.errors, []);
    assert.deepEqual(parser.frames.at(-1), lineFrame([['a', '1'], ['b', '101']], '    return a + b'));
    // Inside the callee ".." meant the callee's value.
    assert.deepEqual(parser.frames[4], lineFrame([['a', '100']], '    a += 1'));
  });

  test('the same when the caller\'s values are restated after the return, and ".." afterwards', () => {
    const parser = parseTrace(prelude + lineText('{"a": "1", "b": "101"}', '    c = a + b') + lineText('{"a": "..", "b": "..", "c": "102"}', '    return c'));
    assert.deepEqual(parser.errors, []);
    assert.deepEqual(parser.frames.slice(-2), [
      lineFrame([['a', '1'], ['b', '101']], '    c = a + b'),
      lineFrame([['a', '1'], ['b', '101'], ['c', '102']], '    return c'),
    ]);
  });

  test('a restated value in the caller after a return wins over the shadow', () => {
    const parser = parseTrace(prelude + lineText('{"a": "7", "b": ".."}', '    return a'));
    // b was not a local of main before the call: nothing to resolve against.
    assert.deepEqual(errorSummary(parser), [['unresolved-unchanged', 7]]);
    assert.deepEqual(parser.frames.at(-1), lineFrame([['a', '7'], ['b', '..']], '    return a'));
  });

  test('nested calls and recursion pop one activation per return', () => {
    const text =
      callText('{"n": "2"}', 'def r(n):') +
      lineText('{"n": ".."}', '    if n == 0: return 0') +
      lineText('{"n": ".."}', '    return r(n - 1) + 1') +
      callText('{"n": "1"}', 'def r(n):') +
      lineText('{"n": ".."}', '    if n == 0: return 0') +
      lineText('{"n": ".."}', '    return r(n - 1) + 1') +
      callText('{"n": "0"}', 'def r(n):') +
      lineText('{"n": ".."}', '    if n == 0: return 0') +
      returnText('    if n == 0: return 0', '"0"') +
      lineText('{"n": ".."}', '    return r(n - 1) + 1') +
      returnText('    return r(n - 1) + 1', '"1"') +
      lineText('{"n": ".."}', '    return r(n - 1) + 1') +
      returnText('    return r(n - 1) + 1', '"2"');
    const parser = parseTrace(text);
    assert.deepEqual(parser.errors, []);
    const ns = parser.frames.flatMap((f) => (f.event === 'line' ? [f.locals[0][1]] : []));
    assert.deepEqual(ns, ['2', '2', '1', '1', '0', '1', '2']);
  });

  test('sibling calls do not see each other\'s values', () => {
    const text =
      callText('{}', 'def main():') +
      lineText('{}', '    g(1)') +
      callText('{"v": "1"}', 'def g(v):') +
      lineText('{"v": ".."}', '    return v') +
      returnText('    return v', '"1"') +
      lineText('{}', '    g(2)') +
      callText('{"v": "2"}', 'def g(v):') +
      lineText('{"v": ".."}', '    return v') +
      returnText('    return v', '"2"');
    const parser = parseTrace(text);
    assert.deepEqual(parser.errors, []);
    assert.deepEqual(parser.frames[3], lineFrame([['v', '1']], '    return v'));
    assert.deepEqual(parser.frames[7], lineFrame([['v', '2']], '    return v'));
  });

  test('an exception frame keeps the activation; the return after it pops it', () => {
    const text =
      callText('{}', 'def main():') +
      lineText('{}', '    x = 5') +
      lineText('{"x": "5"}', '    try: h()') +
      callText('{"y": "9"}', 'def h(y=9):') +
      lineText('{"y": ".."}', '    raise E(y)') +
      exceptionText('    raise E(y)', '"E(9)"') +
      returnText('    raise E(y)', '"None"') +
      exceptionText('    try: h()', '"E(9)"') +
      lineText('{"x": ".."}', '    except E: pass') +
      lineText('{"x": ".."}', '    return x');
    const parser = parseTrace(text);
    assert.deepEqual(parser.errors, []);
    assert.deepEqual(parser.frames[4], lineFrame([['y', '9']], '    raise E(y)'));
    assert.deepEqual(parser.frames[5], exceptionFrame('    raise E(y)', 'E(9)'));
    assert.deepEqual(parser.frames[8], lineFrame([['x', '5']], '    except E: pass'));
    assert.deepEqual(parser.frames[9], lineFrame([['x', '5']], '    return x'));
  });

  test('a variable that disappeared is not resolvable later', () => {
    const text =
      callText('{"a": "1", "b": "2"}', 'def f(a, b):') +
      lineText('{"a": ".."}', '    del b') +
      lineText('{"a": "..", "b": ".."}', '    pass');
    const parser = parseTrace(text);
    assert.deepEqual(errorSummary(parser), [['unresolved-unchanged', 2]]);
    assert.deepEqual(parser.frames[2], lineFrame([['a', '1'], ['b', '..']], '    pass'));
  });

  test('"\'..\'" (the repr of the string "..") is a value, not the placeholder', () => {
    const parser = parseTrace(callText('{"s": "\'..\'"}', 'def f(s):') + lineText('{"s": ".."}', '    return s') + returnText('    return s', '".."'));
    assert.deepEqual(parser.errors, []);
    assert.deepEqual(parser.frames, [callFrame([['s', "'..'"]], 'def f(s):'), lineFrame([['s', "'..'"]], '    return s'), returnFrame('    return s', '..')]);
  });
});

// ---------------------------------------------------------------------------------------------------
// Prompt prefix

describe('prompt prefix', () => {
  const SRC = 'def f(x):  # << START_OF_TRACE\n    return "<|x|>"[0] if x else {1: 2}\n';

  test('<|begin_of_text|><|trace_context_start|>SRC<|frame_sep|> sets context', () => {
    const parser = new TraceParser();
    assert.equal(parser.context, undefined);
    const events = parser.feedText('<|begin_of_text|><|trace_context_start|>def f():\n    return 1\n<|frame_sep|>');
    assert.deepEqual(events, []);
    assert.equal(parser.context, 'def f():\n    return 1\n');
    assert.equal(parser.atFrameBoundary, true);
    parser.feedText(callText('{}', 'def f():'));
    parser.finish();
    assert.deepEqual(parser.frames, [callFrame([], 'def f():')]);
    assert.deepEqual(parser.errors, []);
  });

  test('without <|begin_of_text|> too', () => {
    const parser = parseTrace('<|trace_context_start|>x = 1\n<|frame_sep|>' + TAIL_TEXT);
    assert.equal(parser.context, 'x = 1\n');
    assert.deepEqual(parser.frames, [TAIL_FRAME]);
    assert.deepEqual(parser.errors, []);
  });

  test('an empty source', () => {
    const parser = parseTrace('<|begin_of_text|><|trace_context_start|><|frame_sep|>' + TAIL_TEXT);
    assert.equal(parser.context, '');
    assert.deepEqual(parser.frames, [TAIL_FRAME]);
  });

  test('through the token API, a source holding token-like text stays text', () => {
    const parser = new TraceParser();
    parser.feedToken(T.beginOfText);
    parser.feedToken(T.traceContextStart);
    parser.feedPlain(SRC.slice(0, 20));
    parser.feedPlain(SRC.slice(20));
    parser.feedPlain('s = "<|frame_sep|>"\n');
    parser.feedToken(T.frameSep);
    parser.finish();
    assert.equal(parser.context, SRC + 's = "<|frame_sep|>"\n');
    assert.deepEqual(parser.errors, []);
  });

  test('no prompt: context stays undefined', () => {
    const parser = parseTrace(TAIL_TEXT);
    assert.equal(parser.context, undefined);
  });

  test('a prompt that never ends is a truncated input', () => {
    const parser = parseTrace('<|begin_of_text|><|trace_context_start|>def f():\n');
    assert.equal(parser.context, undefined);
    assert.deepEqual(parser.errors.map((e) => e.kind), ['truncated-frame']);
  });
});

// ---------------------------------------------------------------------------------------------------
// Token-level API

describe('feedToken / feedPlain', () => {
  test('a source line holding the characters <|frame_sep|> fed through feedPlain stays text', () => {
    const parser = new TraceParser();
    const events = [
      ...parser.feedToken(T.callSep),
      ...parser.feedPlain('{"s": "\'<|frame_sep|>\'"}'),
      ...parser.feedToken(T.actionSep),
      ...parser.feedPlain('def f(s="<|frame_sep|><|end_of_text|>"):'),
      ...parser.feedPlain('\n'),
      ...parser.feedToken(T.frameSep),
      ...parser.feedToken(T.returnSep),
      ...parser.feedToken(T.actionSep),
      ...parser.feedPlain('    return "<|arg_sep|>"\n'),
      ...parser.feedToken(T.argSep),
      ...parser.feedPlain('"\'<|arg_sep|>\'"'),
      ...parser.feedToken(T.frameSep),
      ...parser.feedToken(T.endOfText),
      ...parser.finish(),
    ];
    assert.deepEqual(parser.errors, []);
    assert.deepEqual(parser.frames, [
      callFrame([['s', "'<|frame_sep|>'"]], 'def f(s="<|frame_sep|><|end_of_text|>"):'),
      returnFrame('    return "<|arg_sep|>"', "'<|arg_sep|>'"),
    ]);
    assert.deepEqual(eventShape(events), ['frame 0', 'frame 1', 'end']);
  });

  test('the same characters fed through feedText are tokens (the contrast)', () => {
    const parser = parseTrace(T.callSep + '{}' + T.actionSep + 'x = "<|frame_sep|>"\n' + T.frameSep);
    assert.deepEqual(parser.frames, [callFrame([], 'x = "')]);
    assert.deepEqual(errorSummary(parser), [['unexpected-text', 1]]);
  });

  test('feedToken with a string that is not a CWM token reports unknown-token', () => {
    const parser = new TraceParser();
    parser.feedToken('<|eot_id|>');
    parser.feedToken('plain words');
    parser.feedText(TAIL_TEXT);
    parser.finish();
    assert.deepEqual(errorSummary(parser), [['unknown-token', 0], ['unknown-token', 0]]);
    assert.deepEqual(parser.frames, [TAIL_FRAME]);
  });

  test('feedPlain text that only looks like a token is not held back', () => {
    const parser = new TraceParser();
    parser.feedToken(T.lineSep);
    parser.feedPlain('{}');
    parser.feedToken(T.actionSep);
    parser.feedPlain('x = a <');
    parser.feedPlain('|');
    parser.feedToken(T.frameSep);
    assert.deepEqual(parser.frames, [lineFrame([], 'x = a <|')]);
  });

  // Regression: feedText holds back a chunk's tail that could begin a spelled-out token ("<",
  // "<|fr"...); feedPlain and feedToken must release it first, or later text overtakes it (the source
  // read "def f(ab):" and the "<" was reported as stray text).
  test('mixing feedText and feedPlain keeps the order of the text', () => {
    const parser = new TraceParser();
    parser.feedText(T.callSep + '{}' + T.actionSep + 'def f(a<');
    parser.feedPlain('b):\n');
    parser.feedToken(T.frameSep);
    parser.finish();
    assert.deepEqual(parser.frames, [callFrame([], 'def f(a<b):')]);
    assert.deepEqual(parser.errors, []);
  });
});

// ---------------------------------------------------------------------------------------------------
// Random well-formed traces

const PRINTABLE_ASCII = Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i));
const STRING_PIECES: readonly (readonly string[])[] = [
  PRINTABLE_ASCII,
  ['é', 'ü', 'ß', 'ñ', '日', '本', 'Ω', 'ж', '\u00a0', '\u2028', '\u2029', '\ufeff', '\u200b', '€', '\u0301'],
  ['😀', '𝔘', '🐍', '\u{10ffff}', '\u{1f600}\u{1f3fd}', '\ud800', '\udfff'],
  ['\u0000', '\u0001', '\u0007', '\b', '\t', '\n', '\u000b', '\f', '\r', '\u001b', '\u007f', '\u0085'],
  ["'", '"', '`', "\\'", '\\"'],
  ['\\', '\\\\', '\\n', '\\u0041', '\\x00'],
  ["'..'", '"..', '...', '. .', "'.'", '\\..', '..\n', '.', ' ..', '.. '],
  ['<', '|', '>', '<|', '|>', '<|frame_sep', 'sep|>', '{', '}', ':', ', ', '[1, 2]', "{'a': 1}"],
];

const TOKEN_LIKE = /<\|[A-Za-z0-9_]+\|>/g;

/** A random string; never one that holds spelled-out token text, which feedText must read as a token. */
function randomString(rng: Random, maxPieces: number): string {
  let text = '';
  const pieces = rng.below(maxPieces + 1);
  for (let i = 0; i < pieces; i++) text += rng.pick(rng.pick(STRING_PIECES));
  return text.replace(TOKEN_LIKE, (token) => '\u2039' + token.slice(1));
}

const NAMES = ['x', 'xs', 'total', 'i', 'self', 'n', 'a', 'b', '_', 'value', 'résumé', 'π', ''];
const REPRS = ['0', '1', '-1', "'ab'", '[1, 2, 3]', '{1: 2}', 'None', 'True', '3.14', "'..'", '".."', "'\\n'", '<object at 0x7f00>', "'é'"];
const SOURCES = ['def f(x):', '    return x', '    for x in xs:', '        total += x', '    s = "a\\tb"', "    t = '<|'", '\tif x:  # comment', '', '    ', 'λ = 1'];

function randomName(rng: Random): string {
  return rng.chance(0.6) ? rng.pick(NAMES) : randomString(rng, 4);
}

function randomRepr(rng: Random, allowPlaceholder: boolean): string {
  for (;;) {
    const repr = rng.chance(0.5) ? rng.pick(REPRS) : randomString(rng, 8);
    if (allowPlaceholder || repr !== '..') return repr;
  }
}

function randomSource(rng: Random): string {
  return rng.chance(0.5) ? rng.pick(SOURCES) : randomString(rng, 10);
}

function randomLocals(rng: Random, count: number): Array<[string, string]> {
  const locals: Array<[string, string]> = [];
  const names = new Set<string>();
  while (locals.length < count) {
    const name = randomName(rng);
    if (names.has(name)) continue;
    names.add(name);
    locals.push([name, randomRepr(rng, false)]);
  }
  return locals;
}

/** The next line frame's locals: most values kept (so the encoder writes ".."), some changed, some dropped, some new. */
function mutateLocals(rng: Random, locals: ReadonlyArray<[string, string]>): Array<[string, string]> {
  const next: Array<[string, string]> = [];
  for (const [name, repr] of locals) {
    const r = rng.next();
    if (r < 0.6) next.push([name, repr]);
    else if (r < 0.93) next.push([name, randomRepr(rng, false)]);
  }
  if (rng.chance(0.35)) {
    const names = new Set(next.map(([name]) => name));
    const name = randomName(rng);
    if (!names.has(name)) next.push([name, randomRepr(rng, false)]);
  }
  return next;
}

interface RandomTrace {
  readonly frames: TraceFrame[];
  readonly complete: boolean;
}

/** A well-formed trace: call pushes an activation, return pops one, line frames change the top one. */
function randomTrace(rng: Random, maxSteps: number): RandomTrace {
  const frames: TraceFrame[] = [];
  const stack: Array<Array<[string, string]>> = [];
  const enter = (): void => {
    const locals = randomLocals(rng, rng.below(4));
    stack.push(locals);
    frames.push({ event: 'call', locals: locals.map(([n, v]) => [n, v]), source: randomSource(rng) });
  };
  enter();
  const steps = rng.below(maxSteps + 1);
  for (let step = 0; step < steps && stack.length > 0; step++) {
    const r = rng.next();
    if (r < 0.55) {
      const locals = mutateLocals(rng, stack[stack.length - 1]);
      stack[stack.length - 1] = locals;
      frames.push({ event: 'line', locals: locals.map(([n, v]) => [n, v]), source: randomSource(rng) });
    } else if (r < 0.72 && stack.length < 6) {
      enter();
    } else if (r < 0.9) {
      frames.push({ event: 'return', source: randomSource(rng), value: randomRepr(rng, true) });
      stack.pop();
    } else {
      frames.push({ event: 'exception', source: randomSource(rng), value: randomRepr(rng, true) });
    }
  }
  return { frames, complete: stack.length === 0 ? rng.chance(0.8) : rng.chance(0.1) };
}

function randomPrompt(rng: Random): string {
  const lines: string[] = [];
  const count = rng.below(5);
  for (let i = 0; i < count; i++) lines.push(randomString(rng, 12));
  return lines.join('\n');
}

describe('round trip: encodeTrace then parseTrace', () => {
  test('gives back exactly the frames of random well-formed traces', (t) => {
    t.diagnostic(`seed ${SEED}`);
    let placeholders = 0;
    let frameCount = 0;
    const CASES = 3000;
    for (let i = 0; i < CASES; i++) {
      const rng = new Random(caseSeed(SEED, 1_000_000 + i));
      const trace = randomTrace(rng, 30);
      const prompt = rng.chance(0.2) ? randomPrompt(rng) : undefined;
      const text = (prompt === undefined ? '' : T.beginOfText + T.traceContextStart + prompt + T.frameSep) + encodeTrace(trace.frames, trace.complete);
      placeholders += text.split('"..", ').length + text.split('".."}').length - 2;
      frameCount += trace.frames.length;
      const where = `seed ${SEED}, round-trip case ${i}: ${JSON.stringify(text)}`;

      const parser = parseTrace(text);
      assert.deepEqual(parser.errors, [], where);
      assert.deepEqual(parser.frames, trace.frames, where);
      assert.equal(parser.ended, trace.complete, where);
      assert.equal(parser.context, prompt, where);

      const chunked = feedInChunks(text, () => randomChunkSize(rng));
      assert.deepEqual(chunked.parser.frames, trace.frames, where);
      assert.deepEqual(chunked.parser.errors, [], where);
      assert.equal(invariantViolation(chunked), undefined, where);
    }
    // The generator must really exercise ".." compression, or the test proves little.
    assert.ok(placeholders > CASES, `only ${placeholders} ".." placeholders in ${CASES} traces`);
    assert.ok(frameCount > CASES * 5, `only ${frameCount} frames in ${CASES} traces`);
  });
});

// ---------------------------------------------------------------------------------------------------
// Fuzz

const CWM_TOKENS: readonly string[] = Object.values(T);
const OTHER_TOKENS: readonly string[] = ['<|eot_id|>', '<|eom_id|>', '<|start_header_id|>', '<|end_header_id|>', '<|reserved_special_token_250|>', '<|python_tag|>', '<|x|>'];
const FRAGMENTS: readonly string[] = [
  '<|', '|>', '<', '>', '|', '<||>', '<|fra', 'me_sep|>', '<|frame_sep|', '<|frame_sep', '<|end_of_', 'text|>', '<|line_sep',
  '{', '}', '{}', '"', '":', ': ', ', ', '..', '".."', '{"a": ".."}', '{"a": "1"}', '"\\u00', '\\', '\n', '\r\n', ' ', '\t', '[', 'null', '1',
];

function randomToken(rng: Random): string {
  const r = rng.next();
  if (r < 0.6) return rng.pick(CWM_TOKENS);
  if (r < 0.8) return rng.pick(OTHER_TOKENS);
  return rng.pick(FRAGMENTS);
}

function randomGarbage(rng: Random, maxLength: number): string {
  let text = '';
  const length = rng.below(maxLength + 1);
  while (text.length < length) {
    const r = rng.next();
    if (r < 0.3) text += String.fromCharCode(rng.int(0x20, 0x7e));
    else if (r < 0.45) text += String.fromCharCode(rng.below(0x20));
    else if (r < 0.6) text += String.fromCharCode(rng.int(0x80, 0xffff));
    else if (r < 0.7) text += String.fromCodePoint(rng.int(0x10000, 0x10ffff));
    else if (r < 0.9) text += rng.pick(FRAGMENTS);
    else text += randomToken(rng);
  }
  return text;
}

function span(rng: Random, text: string): [number, number] {
  const a = rng.below(text.length + 1);
  const b = Math.min(text.length, a + rng.below(rng.chance(0.7) ? 12 : 200));
  return [a, b];
}

function mutate(rng: Random, text: string): string {
  switch (rng.below(9)) {
    case 0: {
      const [a, b] = span(rng, text);
      return text.slice(0, a) + text.slice(b);
    }
    case 1: {
      const at = rng.below(text.length + 1);
      const [a, b] = span(rng, text);
      return text.slice(0, at) + text.slice(a, b) + text.slice(at);
    }
    case 2: {
      const [a, b] = span(rng, text);
      return text.slice(0, b) + text.slice(a, b) + text.slice(b);
    }
    case 3: {
      const [a, b] = span(rng, text);
      const [c, d] = span(rng, text);
      if (b > c) return text.slice(0, c) + text.slice(a, b) + text.slice(d);
      return text.slice(0, a) + text.slice(c, d) + text.slice(b, c) + text.slice(a, b) + text.slice(d);
    }
    case 4: {
      const at = rng.below(text.length + 1);
      return text.slice(0, at) + randomToken(rng) + text.slice(at);
    }
    case 5:
      return text.slice(0, rng.below(text.length + 1));
    case 6: {
      const [a, b] = span(rng, text);
      return text.slice(0, a) + randomGarbage(rng, 20) + text.slice(b);
    }
    case 7: {
      // Replace one spelled-out token with another.
      const tokens = [...text.matchAll(TOKEN_LIKE)];
      if (tokens.length === 0) return text + randomToken(rng);
      const token = rng.pick(tokens);
      const at = token.index ?? 0;
      return text.slice(0, at) + randomToken(rng) + text.slice(at + token[0].length);
    }
    default: {
      // Cut a token in half and drop one half.
      const tokens = [...text.matchAll(TOKEN_LIKE)];
      if (tokens.length === 0) return text;
      const token = rng.pick(tokens);
      const at = (token.index ?? 0) + rng.int(1, token[0].length - 1);
      return rng.chance(0.5) ? text.slice(0, at) + text.slice((token.index ?? 0) + token[0].length) : text.slice(0, token.index ?? 0) + text.slice(at);
    }
  }
}

function randomPiecesInput(rng: Random): string {
  let text = '';
  const pieces = rng.below(40);
  for (let i = 0; i < pieces; i++) {
    const r = rng.next();
    if (r < 0.35) text += randomToken(rng);
    else if (r < 0.6) text += rng.pick(FRAGMENTS);
    else if (r < 0.8) text += randomGarbage(rng, 10);
    else text += rng.pick(EXAMPLE_LINES);
  }
  return text;
}

describe('fuzz', () => {
  test('100,000 random and mutated inputs in random chunks: never throws, events well-formed', (t) => {
    t.diagnostic(`seed ${SEED} (rerun with TEST_SEED=${SEED})`);
    const started = Date.now();
    const poolRng = new Random(caseSeed(SEED, 2_000_000));
    const pool: string[] = [EXAMPLE_TEXT];
    for (let i = 0; i < 400; i++) {
      const trace = randomTrace(poolRng, 14);
      const prompt = poolRng.chance(0.2) ? T.beginOfText + T.traceContextStart + randomPrompt(poolRng) + T.frameSep : '';
      pool.push(prompt + encodeTrace(trace.frames, trace.complete));
    }

    const CASES = 100_000;
    const seenKinds = new Set<ParseErrorKind>();
    let framesSeen = 0;
    for (let i = 0; i < CASES; i++) {
      const rng = new Random(caseSeed(SEED, i));
      let input: string;
      if (rng.chance(0.1)) {
        input = randomPiecesInput(rng);
      } else {
        input = rng.pick(pool);
        const mutations = rng.int(1, 4);
        for (let m = 0; m < mutations; m++) input = mutate(rng, input);
      }
      const where = (): string => `seed ${SEED}, fuzz case ${i}: ${JSON.stringify(input)}`;

      let whole: Run;
      let chunked: Run;
      try {
        whole = feedWhole(input);
        chunked = feedInChunks(input, () => randomChunkSize(rng));
      } catch (error) {
        assert.fail(`the parser threw ${String(error)}; ${where()}`);
      }
      const wholeProblem = invariantViolation(whole);
      if (wholeProblem) assert.fail(`${wholeProblem} (whole input); ${where()}`);
      const chunkedProblem = invariantViolation(chunked);
      if (chunkedProblem) assert.fail(`${chunkedProblem} (chunked input); ${where()}`);

      // Chunking must not change the outcome: same frames, same error kinds at the same frames.
      if (JSON.stringify(whole.parser.frames) !== JSON.stringify(chunked.parser.frames)) {
        assert.deepEqual(chunked.parser.frames, whole.parser.frames, `frames differ when chunked; ${where()}`);
      }
      if (JSON.stringify(errorSummary(whole.parser)) !== JSON.stringify(errorSummary(chunked.parser))) {
        assert.deepEqual(errorSummary(chunked.parser), errorSummary(whole.parser), `errors differ when chunked; ${where()}`);
      }
      if (whole.parser.ended !== chunked.parser.ended || whole.parser.context !== chunked.parser.context) {
        assert.fail(`ended/context differ when chunked; ${where()}`);
      }
      for (const error of whole.parser.errors) seenKinds.add(error.kind);
      framesSeen += whole.parser.frames.length;
    }
    // The fuzz must reach every error kind and still produce frames, or it explores too little.
    assert.deepEqual([...seenKinds].sort(), Object.keys(KNOWN_KINDS).sort());
    assert.ok(framesSeen > CASES, `only ${framesSeen} frames parsed in ${CASES} inputs`);
    t.diagnostic(`${CASES} inputs, ${framesSeen} frames, ${Date.now() - started} ms`);
  });
});

describe('parser edge cases found in review', () => {
  const feed = (pieces: readonly string[]): TraceParser => {
    const parser = new TraceParser();
    for (const piece of pieces) parser.feedText(piece);
    parser.finish();
    return parser;
  };

  test('a return with a malformed value still leaves the activation', () => {
    const parser = parseTrace(
      '<|call_sep|>{"a": "1"}<|action_sep|>def f(a):\n<|frame_sep|>' +
        '<|line_sep|>{"a": ".."}<|action_sep|>    return g(a)\n<|frame_sep|>' +
        '<|call_sep|>{"a": "100"}<|action_sep|>def g(a):\n<|frame_sep|>' +
        '<|return_sep|><|action_sep|>    return a\n<|arg_sep|>101<|frame_sep|>' +
        '<|line_sep|>{"a": ".."}<|action_sep|>    return g(a)\n<|frame_sep|>',
    );
    assert.deepEqual(parser.errors.map((e) => e.kind), ['bad-json']);
    const last = parser.frames[parser.frames.length - 1];
    assert.ok(last.event === 'line');
    assert.deepEqual(last.locals, [['a', '1']]);
  });

  test("a token look-alike inside the prompt's source is source text", () => {
    const parser = parseTrace('<|begin_of_text|><|trace_context_start|>s = "<|eot_id|>"\n<|frame_sep|><|call_sep|>{}<|action_sep|>def f():\n<|frame_sep|>');
    assert.equal(parser.context, 's = "<|eot_id|>"\n');
    assert.deepEqual(parser.errors, []);
    assert.equal(parser.frames.length, 1);
  });

  test('whitespace after <|end_of_text|> is ignored, like whitespace between frames', () => {
    assert.deepEqual(parseTrace('<|call_sep|>{}<|action_sep|>def f():\n<|frame_sep|>\n<|end_of_text|>\n').errors, []);
    assert.deepEqual(parseTrace('<|end_of_text|>x').errors.map((e) => e.kind), ['after-end']);
  });

  test('an over-long token look-alike is text whether it arrives whole or in pieces', () => {
    const fake = '<|' + 'a'.repeat(70) + '|>';
    const text = '<|call_sep|>{}<|action_sep|>s = "' + fake + '"\n<|frame_sep|>';
    const whole = feed([text]);
    const pieces = feed(text.match(/[\s\S]{1,5}/g) ?? []);
    assert.deepEqual(whole.errors, []);
    assert.deepEqual(pieces.frames, whole.frames);
    assert.equal(whole.frames[0].source, 's = "' + fake + '"');
  });
});
