import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ModelError } from '../../src/model/backend';
import { CwmTokenizer, DecodedPiece, SpecialTokenIds } from '../../src/model/tokenizer';
import { SPECIAL_TOKENS } from '../../src/trace/tokens';
import { tempDir } from '../helpers/env';
import { TINY } from '../helpers/models';
import { Random, seedFromEnv } from '../helpers/random';

const TOKENIZER = path.join(TINY, 'tokenizer.json');
const CONFIG = JSON.parse(fs.readFileSync(path.join(TINY, 'neural-debug-model.json'), 'utf8')) as { specialTokens: SpecialTokenIds };

function text(pieces: readonly DecodedPiece[]): string {
  return pieces.map((piece) => (piece.kind === 'text' ? piece.text : piece.token)).join('');
}

/** Strings of code, whitespace, and characters of 1 to 4 UTF-8 bytes. */
function randomText(random: Random): string {
  const alphabet = ['a', 'Z', '_', ' ', '\n', '\t', '    ', 'def', '(', ')', ':', '"', "'", '\\', 'é', 'ß', '日本', '€', '😀', '🐍', '\u0000', '<|', '|>', 'frame_sep'];
  let out = '';
  const n = random.int(0, 40);
  for (let i = 0; i < n; i++) out += random.pick(alphabet);
  return out;
}

describe('CWM tokenizer', () => {
  const tokenizer = CwmTokenizer.fromFile(TOKENIZER, CONFIG.specialTokens);

  it('reads the special-token ids and checks them against the configuration', () => {
    for (const token of Object.values(SPECIAL_TOKENS)) assert.equal(tokenizer.special(token), CONFIG.specialTokens[token]);
    assert.equal(tokenizer.specialOf(CONFIG.specialTokens[SPECIAL_TOKENS.frameSep]), SPECIAL_TOKENS.frameSep);
    assert.equal(tokenizer.specialOf(65), undefined);
  });

  it('encodes user text as ordinary text, even when it spells out a special token', () => {
    const source = 'def f(s):\n    return s == "<|frame_sep|>" or s.endswith("<|end_of_text|>")\n';
    const ids = tokenizer.encodeText(source);
    const specialIds = new Set(Object.values(CONFIG.specialTokens));
    assert.ok(ids.every((id) => !specialIds.has(id)), 'no special id came out of user text');
    assert.equal(tokenizer.decode(ids), source);
    assert.ok(ids.length < Buffer.byteLength(source), 'merges make code shorter than its bytes');
  });

  it('round-trips random text through encode and decode', () => {
    const random = new Random(seedFromEnv(11));
    for (let i = 0; i < 500; i++) {
      const sample = randomText(random);
      assert.equal(tokenizer.decode(tokenizer.encodeText(sample)), sample, JSON.stringify(sample));
    }
  });

  it('streams decoded text without ever splitting a character', () => {
    const random = new Random(seedFromEnv(12));
    const separator = CONFIG.specialTokens[SPECIAL_TOKENS.lineSep];
    for (let i = 0; i < 200; i++) {
      const parts = [randomText(random), randomText(random), randomText(random)];
      const ids = [...tokenizer.encodeText(parts[0]), separator, ...tokenizer.encodeText(parts[1]), separator, ...tokenizer.encodeText(parts[2])];
      const stream = tokenizer.stream();
      const pieces: DecodedPiece[] = [];
      for (const id of ids) pieces.push(...stream.push(id));
      pieces.push(...stream.flush());
      assert.equal(text(pieces), parts.join(SPECIAL_TOKENS.lineSep));
      for (const piece of pieces) if (piece.kind === 'text') assert.ok(!piece.text.includes('\uFFFD'), `a piece cut a character: ${JSON.stringify(piece.text)}`);
      assert.deepEqual(pieces.filter((piece) => piece.kind === 'special').map((piece) => piece.kind === 'special' && piece.token), [SPECIAL_TOKENS.lineSep, SPECIAL_TOKENS.lineSep]);
    }
  });

  it('holds back a character whose bytes are still arriving', () => {
    const ids = tokenizer.encodeText('🐍');
    assert.ok(ids.length > 1, 'the emoji spans several tokens in this small vocabulary');
    const stream = tokenizer.stream();
    for (const id of ids.slice(0, -1)) assert.deepEqual(stream.push(id), []);
    assert.deepEqual(stream.push(ids[ids.length - 1]), [{ kind: 'text', text: '🐍' }]);
    // A stream cut inside a character gives what it has, visibly damaged, rather than nothing.
    const cut = tokenizer.stream();
    cut.push(ids[0]);
    assert.deepEqual(cut.flush(), [{ kind: 'text', text: '\uFFFD' }]);
  });

  it('names the file when the tokenizer and the configuration disagree', () => {
    const wrong = { ...CONFIG.specialTokens, [SPECIAL_TOKENS.frameSep]: 7 };
    assert.throws(() => CwmTokenizer.fromFile(TOKENIZER, wrong), (error: unknown) => {
      assert.ok(error instanceof ModelError && error.code === 'tokenizer');
      assert.match(error.message, /tokenizer\.json gives <\|frame_sep\|> the id \d+, but the model's configuration says 7/);
      return true;
    });
  });

  it('refuses a tokenizer without CWM tokens, with duplicates, or that is not JSON', () => {
    const dir = tempDir('nd-tok-');
    const json = JSON.parse(fs.readFileSync(TOKENIZER, 'utf8'));
    const write = (name: string, value: unknown): string => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
      return file;
    };
    const without = { ...json, added_tokens: json.added_tokens.filter((t: { content: string }) => t.content !== SPECIAL_TOKENS.argSep) };
    assert.throws(() => CwmTokenizer.fromFile(write('a.json', without)), /has no added token <\|arg_sep\|>/);
    const doubled = { ...json, added_tokens: [...json.added_tokens, { ...json.added_tokens[0], id: 9999 }] };
    assert.throws(() => CwmTokenizer.fromFile(write('b.json', doubled)), /maps <\|begin_of_text\|> to 2 ids/);
    assert.throws(() => CwmTokenizer.fromFile(write('c.json', '{"model": ')), /c\.json is not valid JSON/);
    assert.throws(() => CwmTokenizer.fromFile(write('d.json', { added_tokens: [] })), /not a Hugging Face tokenizer\.json/);
    assert.throws(() => CwmTokenizer.fromFile(path.join(dir, 'missing.json')), /cannot read .*missing\.json/);
  });
});
