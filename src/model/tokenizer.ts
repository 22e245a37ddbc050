/**
 * CWM's tokenizer, from a Hugging Face tokenizer.json: user text encoded as ordinary text (never as
 * special tokens), special tokens checked against the model's configuration, and a streaming decoder
 * that never splits a UTF-8 character.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import * as fs from 'node:fs';
import { SPECIAL_TOKENS, SpecialToken } from '../trace/tokens';
import { ModelError } from './backend';

export type SpecialTokenIds = Readonly<Record<SpecialToken, number>>;

interface AddedTokenJson {
  readonly id: number;
  readonly content: string;
  readonly special?: boolean;
}

/** The parts of a Hugging Face tokenizer.json this module reads; the rest passes through untouched. */
export interface TokenizerJson {
  readonly added_tokens?: readonly AddedTokenJson[];
  readonly model?: { readonly vocab?: Record<string, number> | ReadonlyArray<readonly [string, number]> };
  readonly [key: string]: unknown;
}

/** A decoded piece of model output: ordinary text, or one added token by its string. */
export type DecodedPiece = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'special'; readonly token: string };

const DECODE = { skip_special_tokens: false, clean_up_tokenization_spaces: false } as const;
/** A UTF-8 character spans at most 4 bytes, and every token holds at least one. */
const MAX_HELD_TOKENS = 4;

export class CwmTokenizer {
  private readonly tokenizer: Tokenizer;
  /** Built on first need: the same tokenizer with no added tokens, for text that spells one out. */
  private plainTokenizer: Tokenizer | undefined;
  private readonly addedById = new Map<number, string>();
  private readonly addedByContent = new Map<string, number>();
  private readonly specialById = new Map<number, SpecialToken>();
  private longest: number | undefined;
  readonly specialTokenIds: SpecialTokenIds;
  /** One more than the largest id the tokenizer knows. */
  readonly size: number;

  /**
   * @param expected the special-token ids the model folder's configuration names; every CWM token
   *   must be an added token of exactly that id. Without it, the ids are read from the tokenizer.
   * @param where the file the JSON came from, for messages.
   */
  constructor(
    private readonly json: TokenizerJson,
    expected: SpecialTokenIds | undefined,
    private readonly where: string,
  ) {
    const added = Array.isArray(json.added_tokens) ? json.added_tokens : [];
    for (const token of added) {
      this.addedById.set(token.id, token.content);
      this.addedByContent.set(token.content, token.id);
    }
    const ids = {} as Record<SpecialToken, number>;
    for (const token of Object.values(SPECIAL_TOKENS)) {
      const matches = added.filter((candidate) => candidate.content === token);
      if (matches.length === 0) {
        throw new ModelError('tokenizer', `${where} has no added token ${token}: it is not a CWM tokenizer (CWM's special tokens must be added tokens)`);
      }
      if (matches.length > 1) {
        throw new ModelError('tokenizer', `${where} maps ${token} to ${matches.length} ids (${matches.map((m) => m.id).join(', ')}); it must have exactly one`);
      }
      const id = matches[0].id;
      if (expected && expected[token] !== id) {
        throw new ModelError('tokenizer', `${where} gives ${token} the id ${id}, but the model's configuration says ${expected[token]}: the tokenizer and the model do not belong together`);
      }
      ids[token] = id;
      this.specialById.set(id, token);
    }
    this.specialTokenIds = ids;
    try {
      this.tokenizer = new Tokenizer(json, {});
    } catch (error) {
      throw new ModelError('tokenizer', `${where} is not a tokenizer this runtime can read: ${(error as Error).message}`);
    }
    this.size = Math.max(largestVocabId(json), ...this.addedById.keys()) + 1;
  }

  static fromFile(file: string, expected?: SpecialTokenIds): CwmTokenizer {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw new ModelError('model-folder', `cannot read ${file}: ${(error as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new ModelError('tokenizer', `${file} is not valid JSON (${(error as Error).message}); re-download or re-export the tokenizer`);
    }
    if (typeof json !== 'object' || json === null || typeof (json as TokenizerJson).model !== 'object') {
      throw new ModelError('tokenizer', `${file} is not a Hugging Face tokenizer.json (it has no "model" section)`);
    }
    return new CwmTokenizer(json as TokenizerJson, expected, file);
  }

  /** Encodes text from a program or a value as ordinary text: `<|frame_sep|>` in it stays characters. */
  encodeText(text: string): number[] {
    if (text === '') return [];
    for (const content of this.addedById.values()) {
      if (text.includes(content)) return this.plain().encode(text, { add_special_tokens: false }).ids;
    }
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  special(token: SpecialToken): number {
    return this.specialTokenIds[token];
  }

  /** The CWM token an id stands for, if it is one. */
  specialOf(id: number): SpecialToken | undefined {
    return this.specialById.get(id);
  }

  /** The id of an added token by its string (`<|eot_id|>`), if the tokenizer has it. */
  idOf(content: string): number | undefined {
    return this.addedByContent.get(content);
  }

  /**
   * The longest text one token stands for, in characters of its vocabulary entry (a byte-level entry
   * spells each byte as one character, so this bounds the UTF-16 length too): text of length L needs
   * at least L / this many tokens, known before encoding it.
   */
  get longestTokenLength(): number {
    if (this.longest === undefined) {
      const vocab = this.json.model?.vocab;
      const entries = Array.isArray(vocab) ? vocab.map(([text]) => text) : Object.keys(vocab ?? {});
      this.longest = Math.max(1, ...entries.map((text) => text.length), ...[...this.addedById.values()].map((text) => text.length));
    }
    return this.longest;
  }

  /** The tokenizer.json this tokenizer was built from (not to be modified). */
  toJSON(): TokenizerJson {
    return this.json;
  }

  /** Whole-sequence decode with added tokens spelled out (for display and tests). */
  decode(ids: readonly number[]): string {
    if (ids.length === 0) return '';
    return this.tokenizer.decode([...ids], DECODE);
  }

  /** A decoder for a stream of generated ids. */
  stream(): TokenStreamDecoder {
    return new TokenStreamDecoder(this);
  }

  /** @internal the added token an id stands for (CWM's or any other, e.g. <|eot_id|>). */
  addedToken(id: number): string | undefined {
    return this.addedById.get(id);
  }

  /** @internal */
  decodeRegular(ids: readonly number[]): string {
    return this.tokenizer.decode([...ids], DECODE);
  }

  private plain(): Tokenizer {
    if (!this.plainTokenizer) {
      try {
        this.plainTokenizer = new Tokenizer({ ...this.json, added_tokens: [] }, {});
      } catch (error) {
        throw new ModelError('tokenizer', `${this.where}: cannot build its plain-text encoder: ${(error as Error).message}`);
      }
    }
    return this.plainTokenizer;
  }
}

/**
 * Turns generated ids into text pieces as they come. Ordinary tokens are held back while their bytes
 * end inside a UTF-8 character; an added token flushes what is held and comes out as its own piece.
 */
export class TokenStreamDecoder {
  private held: number[] = [];

  constructor(private readonly tokenizer: CwmTokenizer) {}

  push(id: number): DecodedPiece[] {
    const added = this.tokenizer.addedToken(id);
    if (added !== undefined) {
      const pieces = this.flush();
      pieces.push({ kind: 'special', token: added });
      return pieces;
    }
    this.held.push(id);
    const text = this.tokenizer.decodeRegular(this.held);
    if (text.endsWith('\uFFFD') && this.held.length < MAX_HELD_TOKENS) return [];
    this.held = [];
    return text === '' ? [] : [{ kind: 'text', text }];
  }

  /** Whatever is held, even a cut character (as U+FFFD): the stream is over or an added token follows. */
  flush(): DecodedPiece[] {
    if (this.held.length === 0) return [];
    const text = this.tokenizer.decodeRegular(this.held);
    this.held = [];
    return text === '' ? [] : [{ kind: 'text', text }];
  }
}

function largestVocabId(json: TokenizerJson): number {
  const vocab = json.model?.vocab;
  let largest = -1;
  if (Array.isArray(vocab)) return vocab.length - 1;
  if (vocab && typeof vocab === 'object') {
    for (const id of Object.values(vocab as Record<string, number>)) if (typeof id === 'number' && id > largest) largest = id;
  }
  return largest;
}
