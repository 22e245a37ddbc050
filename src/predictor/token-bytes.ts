/**
 * Every token id as the bytes it stands for, or as the added token it is: what frame-grammar decoding
 * checks a candidate token against. Byte-level BPE vocabularies (CWM's, Llama 3's, GPT-2's) spell each
 * byte as one printable character (GPT-2's byte-to-unicode table); a token of any other vocabulary is
 * taken as the UTF-8 bytes of its decoded text.
 */
import type { CwmTokenizer } from '../model/tokenizer';

export interface TokenTable {
  /** Bytes of each ordinary id; undefined for added tokens and unused ids. */
  readonly bytes: ReadonlyArray<Uint8Array | undefined>;
  /** The added token each id stands for (CWM's special tokens, <|eot_id|>, ...). */
  readonly added: ReadonlyMap<number, string>;
  /** The ordinary id spelling exactly these bytes (as a latin1 string), if any. */
  readonly byBytes: ReadonlyMap<string, number>;
}

/** Bytes as a map key. */
export function bytesKey(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

const tables = new WeakMap<CwmTokenizer, TokenTable>();

export function tokenTable(tokenizer: CwmTokenizer): TokenTable {
  let table = tables.get(tokenizer);
  if (!table) {
    table = buildTable(tokenizer);
    tables.set(tokenizer, table);
  }
  return table;
}

function buildTable(tokenizer: CwmTokenizer): TokenTable {
  const bytes: Array<Uint8Array | undefined> = new Array(tokenizer.size).fill(undefined);
  const added = new Map<number, string>();
  for (let id = 0; id < tokenizer.size; id++) {
    const token = tokenizer.addedToken(id);
    if (token !== undefined) added.set(id, token);
  }
  const json = tokenizer.toJSON();
  const vocab = json.model?.vocab;
  const entries: Array<readonly [string, number]> = Array.isArray(vocab) ? vocab.map(([piece], id) => [piece, id] as const) : Object.entries(vocab ?? {});
  const byteLevel = isByteLevel(json);
  const unicodeToByte = byteLevel ? gpt2UnicodeToByte() : undefined;
  const encoder = new TextEncoder();
  for (const [piece, id] of entries) {
    if (added.has(id) || id < 0 || id >= bytes.length) continue;
    bytes[id] = unicodeToByte ? pieceBytes(piece, unicodeToByte) : encoder.encode(tokenizer.decodeRegular([id]));
  }
  const byBytes = new Map<string, number>();
  bytes.forEach((value, id) => {
    if (value && !byBytes.has(bytesKey(value))) byBytes.set(bytesKey(value), id);
  });
  return { bytes, added, byBytes };
}

function isByteLevel(json: ReturnType<CwmTokenizer['toJSON']>): boolean {
  return JSON.stringify(json.decoder ?? null).includes('ByteLevel') || JSON.stringify(json.pre_tokenizer ?? null).includes('ByteLevel');
}

function pieceBytes(piece: string, unicodeToByte: ReadonlyMap<number, number>): Uint8Array {
  const out: number[] = [];
  for (const char of piece) {
    const byte = unicodeToByte.get(char.codePointAt(0) as number);
    if (byte === undefined) return new TextEncoder().encode(piece); // not a byte-level piece after all
    out.push(byte);
  }
  return Uint8Array.from(out);
}

/** GPT-2's table: printable bytes stand for themselves, the others for code points from 256 on. */
function gpt2UnicodeToByte(): Map<number, number> {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const map = new Map<number, number>();
  for (const b of printable) map.set(b, b);
  let next = 256;
  for (let b = 0; b < 256; b++) {
    if (!map.has(b)) map.set(next++, b);
  }
  return map;
}
