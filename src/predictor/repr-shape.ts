/**
 * The outline every builtin repr() keeps, for frame-grammar decoding: a value that opens with a quote
 * is a str, which ends at its closing quote; one that opens with a bracket is a list, tuple, dict or
 * set, which ends where that bracket closes (quotes inside it respected). Nothing may follow the end.
 * Any other opening (a number, None, a custom repr) is left free, and so is a repr past the tracer's
 * cut (1,000 characters, then `...<+N chars>`). This is what stops a model from running a copied string
 * on (`'the fox', 'the fox', ...`): the string has ended, so only the value's end may come. The value
 * may end before its repr does (a wrong value, but a well-formed frame): forcing a small model to go on
 * with a string it meant to end only makes it ramble.
 */

export interface ReprShape {
  readonly kind: 'start' | 'free' | 'str' | 'container' | 'done';
  /** The str's quote; in a container, the quote of the string literal it is inside, if any. */
  readonly quote: string;
  readonly depth: number;
  /** The previous character was a backslash inside a string literal. */
  readonly escaped: boolean;
  readonly length: number;
}

/** Reprs longer than this are cut by the tracer (its --max-repr default), ending anywhere. */
const CUT_AT = 1000;

export const REPR_START: ReprShape = { kind: 'start', quote: '', depth: 0, escaped: false, length: 0 };

/** The shape after one more character of the repr, or undefined when no repr continues so. */
export function reprChar(shape: ReprShape, char: string): ReprShape | undefined {
  const length = shape.length + 1;
  if (shape.kind === 'free' || length > CUT_AT) return { ...shape, kind: 'free', length };
  switch (shape.kind) {
    case 'start':
      if (char === "'" || char === '"') return { ...shape, kind: 'str', quote: char, length };
      if ('[({'.includes(char)) return { ...shape, kind: 'container', depth: 1, length };
      return { ...shape, kind: 'free', length };
    case 'done':
      return undefined;
    case 'str':
      if (shape.escaped) return { ...shape, escaped: false, length };
      if (char === '\\') return { ...shape, escaped: true, length };
      return char === shape.quote ? { ...shape, kind: 'done', length } : { ...shape, length };
    case 'container': {
      if (shape.quote !== '') {
        if (shape.escaped) return { ...shape, escaped: false, length };
        if (char === '\\') return { ...shape, escaped: true, length };
        return char === shape.quote ? { ...shape, quote: '', length } : { ...shape, length };
      }
      if (char === "'" || char === '"') return { ...shape, quote: char, length };
      if ('[({'.includes(char)) return { ...shape, depth: shape.depth + 1, length };
      if (')]}'.includes(char)) return shape.depth === 1 ? { ...shape, kind: 'done', depth: 0, length } : { ...shape, depth: shape.depth - 1, length };
      return { ...shape, length };
    }
  }
}
