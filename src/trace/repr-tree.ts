/**
 * Python reprs of lists, tuples, sets and dicts as trees, so the Variables view can expand a value
 * that exists only as text (a real trace's repr, or one the model predicted).
 *
 * Tolerant by design: whatever does not parse completely as a container (a repr cut short with
 * `...<+N chars>`, unbalanced brackets, `[...]` recursion markers) is an atom, and so is every value
 * written as a call (`set()`, `deque([1])`, `defaultdict(<class 'int'>, {})`, `Point(x=1)`) or in
 * angle brackets (`<Node object at 0x...>`). One pass over the text, no backtracking: a long repr
 * costs linear time, and nesting deeper than MAX_DEPTH is left as one atom rather than recursed into.
 */

export type ReprNode =
  | { readonly kind: 'atom'; readonly text: string }
  | { readonly kind: 'list' | 'tuple' | 'set' | 'dict'; readonly text: string; readonly children: readonly ReprChild[] };

/** A container's element: `0`, `1`, ... in a list, tuple or set; the key's repr text in a dict. */
export interface ReprChild {
  readonly key: string;
  readonly node: ReprNode;
}

/** Python's own repr gives up near 1000 levels; far less is ever worth expanding. */
const MAX_DEPTH = 200;
const TRUNCATED = /\.\.\.<\+\d+ chars>$/;
const CLOSER: ReadonlyMap<string, string> = new Map([['[', ']'], ['(', ')'], ['{', '}']]);

/** Never throws: what it cannot read is one atom with the whole text. */
export function parseRepr(repr: string): ReprNode {
  if (TRUNCATED.test(repr)) return { kind: 'atom', text: repr };
  try {
    const parser = new Parser(repr);
    const node = parser.element(false, 0);
    parser.skipSpace();
    if (!parser.atEnd()) throw new Unreadable();
    return node;
  } catch (error) {
    if (error instanceof Unreadable) return { kind: 'atom', text: repr };
    throw error;
  }
}

class Unreadable extends Error {}

class Parser {
  private pos = 0;

  constructor(private readonly s: string) {}

  atEnd(): boolean {
    return this.pos >= this.s.length;
  }

  skipSpace(): void {
    for (let c = this.s[this.pos]; c === ' ' || c === '\t' || c === '\n' || c === '\r'; c = this.s[this.pos]) this.pos++;
  }

  /** One value; `keyPosition`: a `:` ends it (a set's element or a dict's key). */
  element(keyPosition: boolean, depth: number): ReprNode {
    this.skipSpace();
    const c = this.s[this.pos];
    if (CLOSER.has(c) && depth < MAX_DEPTH) return this.container(depth + 1);
    return this.atom(keyPosition);
  }

  private container(depth: number): ReprNode {
    const s = this.s;
    const start = this.pos;
    const open = s[this.pos++];
    const close = CLOSER.get(open);
    const children: ReprChild[] = [];
    let kind: 'list' | 'tuple' | 'set' | 'dict' = open === '[' ? 'list' : open === '(' ? 'tuple' : 'dict';
    let commas = 0;
    this.skipSpace();
    while (s[this.pos] !== close) {
      if (children.length > 0) {
        if (s[this.pos] !== ',') throw new Unreadable();
        this.pos++;
        commas++;
        this.skipSpace();
        if (s[this.pos] === close) break; // a trailing comma, as in (1,)
      }
      const first = this.element(open === '{', depth);
      this.skipSpace();
      if (open === '{' && children.length === 0) kind = s[this.pos] === ':' ? 'dict' : 'set';
      if (kind === 'dict') {
        if (s[this.pos] !== ':') throw new Unreadable();
        this.pos++;
        const value = this.element(false, depth);
        this.skipSpace();
        children.push({ key: first.text, node: value });
      } else {
        children.push({ key: String(children.length), node: first });
      }
    }
    this.pos++;
    const text = s.slice(start, this.pos);
    // (x) is a parenthesized value such as (1+2j), not a tuple; [...] and {...} mark recursion.
    const only = children.length === 1 && commas === 0 ? children[0].node : undefined;
    if (only && (kind === 'tuple' || (only.kind === 'atom' && only.text === '...'))) return { kind: 'atom', text };
    return { kind, text, children };
  }

  /** Text up to the next `,`, closing bracket (or `:` in key position), with its strings and brackets. */
  private atom(keyPosition: boolean): ReprNode {
    const s = this.s;
    const start = this.pos;
    if (s[this.pos] === '<') this.skipAngles();
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === ',' || c === ')' || c === ']' || c === '}' || (keyPosition && c === ':')) break;
      if (c === "'" || c === '"') this.skipString();
      else if (CLOSER.has(c)) this.skipBalanced();
      else this.pos++;
    }
    const text = s.slice(start, this.pos).trimEnd();
    if (text === '') throw new Unreadable();
    return { kind: 'atom', text };
  }

  /** A str or bytes literal as repr writes it: one line, backslash escapes. */
  private skipString(): void {
    const s = this.s;
    const quote = s[this.pos++];
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === '\\') this.pos += 2;
      else if (c === quote) {
        this.pos++;
        return;
      } else this.pos++;
    }
    throw new Unreadable();
  }

  /** `<...>` as default reprs write it, which may nest (`<function <lambda> at 0x...>`) and hold quotes. */
  private skipAngles(): void {
    const s = this.s;
    let depth = 0;
    while (this.pos < s.length) {
      const c = s[this.pos++];
      if (c === '<') depth++;
      else if (c === '>' && --depth === 0) return;
    }
    throw new Unreadable();
  }

  /** A bracketed group inside an atom (a call's arguments): skipped whole, without recursion. */
  private skipBalanced(): void {
    const s = this.s;
    const expected: string[] = [];
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === "'" || c === '"') {
        this.skipString();
        continue;
      }
      this.pos++;
      const closer = CLOSER.get(c);
      if (closer !== undefined) expected.push(closer);
      else if (c === ')' || c === ']' || c === '}') {
        if (expected.pop() !== c) throw new Unreadable();
        if (expected.length === 0) return;
      }
    }
    throw new Unreadable();
  }
}
