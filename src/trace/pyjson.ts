/**
 * JSON exactly as Python's `json.dumps` writes it with default arguments: separators ", " and ": ",
 * and ensure_ascii, which escapes everything outside printable ASCII (DEL included) as \uXXXX with
 * lowercase hex, astral characters as their UTF-16 surrogate pair. JSON.stringify differs (it keeps
 * non-ASCII as is), and re-fed frames must stay byte-identical to what CWM was trained on.
 */

const SHORT_ESCAPES: Readonly<Record<number, string>> = {
  0x22: '\\"',
  0x5c: '\\\\',
  0x0a: '\\n',
  0x0d: '\\r',
  0x09: '\\t',
  0x08: '\\b',
  0x0c: '\\f',
};

const NEEDS_ESCAPE = /[^\x20-\x21\x23-\x5b\x5d-\x7e]/;

export function pyJsonString(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return '"' + text + '"';
  let out = '"';
  let plainStart = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0x20 && unit <= 0x7e && unit !== 0x22 && unit !== 0x5c) continue;
    out += text.slice(plainStart, i);
    out += SHORT_ESCAPES[unit] ?? '\\u' + unit.toString(16).padStart(4, '0');
    plainStart = i + 1;
  }
  return out + text.slice(plainStart) + '"';
}

/** A JSON object of string values, keys in the given order: the shape of a CWM frame's LOCALS. */
export function pyJsonStringObject(pairs: ReadonlyArray<readonly [string, string]>): string {
  if (pairs.length === 0) return '{}';
  return '{' + pairs.map(([key, value]) => pyJsonString(key) + ': ' + pyJsonString(value)).join(', ') + '}';
}

export type JsonParseResult<T> = { ok: true; value: T } | { ok: false; error: string; offset: number };

/**
 * Reads a JSON object whose values are all strings, keeping key order and reporting duplicates,
 * which JSON.parse would silently merge. Accepts any JSON whitespace, not only json.dumps' own.
 */
export function parseStringObject(text: string): JsonParseResult<Array<[string, string]>> {
  const reader = new JsonReader(text);
  try {
    reader.skipSpace();
    reader.expect('{');
    const pairs: Array<[string, string]> = [];
    const seen = new Set<string>();
    reader.skipSpace();
    if (reader.peek() === '}') {
      reader.pos++;
    } else {
      for (;;) {
        reader.skipSpace();
        const keyAt = reader.pos;
        const key = reader.readString();
        if (seen.has(key)) throw new JsonError(`duplicate key ${pyJsonString(key)}`, keyAt);
        seen.add(key);
        reader.skipSpace();
        reader.expect(':');
        reader.skipSpace();
        if (reader.peek() !== '"') throw new JsonError(`the value of ${pyJsonString(key)} is not a string`, reader.pos);
        pairs.push([key, reader.readString()]);
        reader.skipSpace();
        const next = reader.peek();
        reader.pos++;
        if (next === '}') break;
        if (next !== ',') throw new JsonError(next === undefined ? 'unterminated object' : `expected "," or "}" but found ${JSON.stringify(next)}`, reader.pos - 1);
      }
    }
    reader.skipSpace();
    if (reader.pos !== text.length) throw new JsonError('unexpected text after the object', reader.pos);
    return { ok: true, value: pairs };
  } catch (error) {
    if (error instanceof JsonError) return { ok: false, error: error.message, offset: error.offset };
    throw error;
  }
}

/** Reads one JSON string (a return or exception VALUE). */
export function parseString(text: string): JsonParseResult<string> {
  const reader = new JsonReader(text);
  try {
    reader.skipSpace();
    if (reader.peek() !== '"') throw new JsonError('expected a JSON string', reader.pos);
    const value = reader.readString();
    reader.skipSpace();
    if (reader.pos !== text.length) throw new JsonError('unexpected text after the string', reader.pos);
    return { ok: true, value };
  } catch (error) {
    if (error instanceof JsonError) return { ok: false, error: error.message, offset: error.offset };
    throw error;
  }
}

class JsonError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
  }
}

const ESCAPED: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

class JsonReader {
  pos = 0;
  constructor(private readonly text: string) {}

  peek(): string | undefined {
    return this.text[this.pos];
  }

  skipSpace(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.pos++;
    }
  }

  expect(char: string): void {
    if (this.text[this.pos] !== char) {
      const found = this.text[this.pos];
      throw new JsonError(found === undefined ? `expected ${JSON.stringify(char)} but the text ended` : `expected ${JSON.stringify(char)} but found ${JSON.stringify(found)}`, this.pos);
    }
    this.pos++;
  }

  readString(): string {
    this.expect('"');
    let out = '';
    let plainStart = this.pos;
    const text = this.text;
    for (;;) {
      if (this.pos >= text.length) throw new JsonError('unterminated string', this.pos);
      const c = text.charCodeAt(this.pos);
      if (c === 0x22) {
        out += text.slice(plainStart, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) throw new JsonError('control character inside a string', this.pos);
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      out += text.slice(plainStart, this.pos);
      const kind = text[this.pos + 1];
      if (kind === 'u') {
        const hex = text.slice(this.pos + 2, this.pos + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new JsonError('bad \\u escape', this.pos);
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += 6;
      } else if (kind !== undefined && kind in ESCAPED) {
        out += ESCAPED[kind];
        this.pos += 2;
      } else {
        throw new JsonError(kind === undefined ? 'unterminated string' : `bad escape \\${kind}`, this.pos);
      }
      plainStart = this.pos;
    }
  }
}
