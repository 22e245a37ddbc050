/**
 * The variable names on one physical line of Python, for showing values inline in the editor.
 * A small tokenizer (strings, comments, numbers, operators) feeds a pass that drops what names no
 * variable: keywords, attribute names after `.`, keyword-argument names in calls.
 *
 * What it cannot know from one line, it guesses the common way:
 * - the line is taken to start outside any string (a line inside a multi-line string is read as code);
 *   a triple-quoted string not closed on the line runs to its end, and so does an unterminated one;
 * - `match`, `case` and `type` are soft keywords only where they start the line as a statement would
 *   (`match x:`, `case [a, _]:`, `type T = int`); anywhere else they are names. In a `case` pattern
 *   `_` is the wildcard, not a name, up to the guard's `if`;
 * - names are found inside f-string replacement fields (`f"{x + 1}"` gives x), not in format specs'
 *   literal text; strings, bytes and comments contribute nothing else;
 * - names of functions being called are names like any other: callers look names up in a frame's
 *   locals, where a builtin's name is simply not found.
 * Columns are 0-based offsets in UTF-16 code units ([start, end)), as editor positions count them;
 * a tab is one column. `name` is normalized as Python does (NFKC), so `𝑥` names the variable x.
 */

export interface LineName {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

const KEYWORDS: ReadonlySet<string> = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def',
  'del', 'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda',
  'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield',
]);

type Token =
  | { readonly kind: 'name'; readonly text: string; readonly start: number; readonly end: number }
  | { readonly kind: 'op'; readonly text: string }
  | { readonly kind: 'literal' } // a number, or the text of a string
  | { readonly kind: 'field-open' } // an f-string replacement field: its expression is a fresh context
  | { readonly kind: 'field-close' };

export function namesOnLine(line: string): LineName[] {
  const tokens = tokenize(line);
  const skipped = softKeywords(tokens);
  return selectNames(tokens, skipped);
}

/** The distinct names on the line, in order of first appearance. */
export function uniqueNames(line: string): string[] {
  return [...new Set(namesOnLine(line).map((n) => n.name))];
}

// ---------------------------------------------------------------------------------------------
// Tokens

const IDENTIFIER = /[\p{XID_Start}_][\p{XID_Continue}]*/uy;
// Underscores only between digits: in `1.__class__` the number is `1.`.
const NUMBER = /0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?[jJ]?/y;
const OPERATORS = [
  '**=', '//=', '>>=', '<<=', '...',
  '**', '//', '>>', '<<', '<=', '>=', '==', '!=', '->', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '@=', ':=',
];
const STRING_PREFIXES: ReadonlySet<string> = new Set(['r', 'u', 'b', 'f', 't', 'br', 'rb', 'fr', 'rf', 'tr', 'rt']);

function matchAt(pattern: RegExp, text: string, at: number): string | undefined {
  pattern.lastIndex = at;
  return pattern.exec(text)?.[0];
}

/** Where a field's expression stopped: at its end, a `!` conversion, a `:` format spec, or the line's end. */
type FieldStop = '}' | '!' | ':' | 'eol';

function tokenize(line: string): Token[] {
  const tokens: Token[] = [];

  /**
   * Code from `pos`. Outside a field it runs to the end of the line (or a comment or a backslash
   * continuation); inside one it stops before the field's own `}`, `!` or `:`.
   */
  const code = (pos: number, inField: boolean): { pos: number; stop: FieldStop } => {
    let depth = 0; // brackets opened inside a field
    while (pos < line.length) {
      const c = line[pos];
      if (c === ' ' || c === '\t' || c === '\f') {
        pos++;
        continue;
      }
      if (c === '#' || c === '\\') return { pos: line.length, stop: 'eol' };
      if (inField && depth === 0) {
        if (c === '}' || c === ':') return { pos, stop: c };
        if (c === '!' && line[pos + 1] !== '=') return { pos, stop: '!' };
      }
      const word = matchAt(IDENTIFIER, line, pos);
      if (word !== undefined) {
        const quote = line[pos + word.length];
        if ((quote === "'" || quote === '"') && STRING_PREFIXES.has(word.toLowerCase())) {
          pos = string(pos + word.length, word.toLowerCase());
        } else {
          tokens.push({ kind: 'name', text: word, start: pos, end: pos + word.length });
          pos += word.length;
        }
        continue;
      }
      if (c === "'" || c === '"') {
        pos = string(pos, '');
        continue;
      }
      const number = matchAt(NUMBER, line, pos);
      if (number !== undefined && number !== '') {
        tokens.push({ kind: 'literal' });
        pos += number.length;
        continue;
      }
      const op = OPERATORS.find((o) => line.startsWith(o, pos)) ?? String.fromCodePoint(line.codePointAt(pos) ?? 0);
      if (inField) {
        if ('([{'.includes(op)) depth++;
        else if (')]}'.includes(op)) depth--;
      }
      tokens.push({ kind: 'op', text: op });
      pos += op.length;
    }
    return { pos, stop: 'eol' };
  };

  /** A string literal whose quote is at `pos`; returns the position after it (or the line's end). */
  const string = (pos: number, prefix: string): number => {
    tokens.push({ kind: 'literal' });
    const q = line[pos];
    const quote = line.startsWith(q.repeat(3), pos) ? q.repeat(3) : q;
    const raw = prefix.includes('r');
    const formatted = prefix.includes('f') || prefix.includes('t');
    pos += quote.length;
    while (pos < line.length) {
      const c = line[pos];
      if (line.startsWith(quote, pos)) return pos + quote.length;
      if (c === '\\') {
        // \N{NAME} is a character, not a field; a backslash before { leaves the field to begin.
        if (!raw && line[pos + 1] === 'N' && line[pos + 2] === '{') {
          const close = line.indexOf('}', pos + 3);
          pos = close < 0 ? line.length : close + 1;
        } else {
          pos += line[pos + 1] === '{' ? 1 : 2;
        }
        continue;
      }
      if (formatted && (c === '{' || c === '}')) {
        if (line[pos + 1] === c) pos += 2;
        else if (c === '{') pos = field(pos + 1);
        else pos++;
        continue;
      }
      pos++;
    }
    return pos;
  };

  /** A replacement field after its `{`: expression, then `!conversion` and `:spec`, to its `}`. */
  const field = (pos: number): number => {
    tokens.push({ kind: 'field-open' });
    const expression = code(pos, true);
    pos = expression.pos;
    if (expression.stop === '!') {
      while (pos < line.length && line[pos] !== ':' && line[pos] !== '}') pos++;
    }
    if (line[pos] === ':') {
      pos++;
      // The spec is literal text with nested fields ({x:>{width}}).
      while (pos < line.length && line[pos] !== '}') {
        if (line[pos] === '{') pos = field(pos + 1);
        else pos++;
      }
    }
    tokens.push({ kind: 'field-close' });
    return pos < line.length ? pos + 1 : pos;
  };

  code(0, false);
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Which names are variables

/** Indexes of name tokens that are soft keywords (or `case` wildcards) on this line. */
function softKeywords(tokens: readonly Token[]): ReadonlySet<number> {
  const skipped = new Set<number>();
  const [first, second, third] = tokens;
  if (first?.kind !== 'name' || second === undefined) return skipped;
  if (first.text === 'type') {
    if (second.kind === 'name' && third?.kind === 'op' && (third.text === '=' || third.text === '[')) skipped.add(0);
    return skipped;
  }
  if (first.text !== 'match' && first.text !== 'case') return skipped;
  // A statement that goes on with an operator uses the name (match = 1, match.x, match(x) + 1).
  const opensSubject = second.kind !== 'op' || ['(', '[', '{', '-', '+', '~', '*'].includes(second.text);
  const last = lastTopLevel(tokens);
  if (!opensSubject || last?.kind !== 'op' || last.text !== ':') return skipped;
  skipped.add(0);
  if (first.text === 'case') {
    let depth = 0;
    for (let i = 1; i < tokens.length; i++) {
      const token = tokens[i];
      if (token.kind === 'op' && '([{'.includes(token.text)) depth++;
      else if (token.kind === 'op' && ')]}'.includes(token.text)) depth--;
      else if (token.kind === 'name' && token.text === 'if' && depth === 0) break; // the guard is an expression
      else if (token.kind === 'name' && token.text === '_') skipped.add(i);
    }
  }
  return skipped;
}

function lastTopLevel(tokens: readonly Token[]): Token | undefined {
  let fields = 0;
  for (let i = tokens.length - 1; i >= 0; i--) {
    const token = tokens[i];
    if (token.kind === 'field-close') fields++;
    else if (token.kind === 'field-open') fields--;
    else if (fields === 0) return token;
  }
  return undefined;
}

interface Bracket {
  readonly char: string;
  /** A `(` that calls something (or lists a class's bases): `name=` in it is a keyword argument. */
  readonly call: boolean;
  /** The parameter list of a def: `name=` in it gives a parameter its default. */
  readonly params: boolean;
}

/** What the selection pass knows in one expression context: the line, or one f-string field. */
interface Context {
  readonly brackets: Bracket[];
  /** Bracket depths at which a lambda's parameters are open (until their `:`). */
  readonly lambdas: number[];
  /** The previous token: decides attribute names, calls, and def parameter lists. */
  previous: Token | undefined;
  /** The token before `previous`. */
  before: Token | undefined;
  /** A name that is kept unless the next token makes it a keyword argument. */
  pending: LineName | undefined;
}

function selectNames(tokens: readonly Token[], skipped: ReadonlySet<number>): LineName[] {
  const names: LineName[] = [];
  const newContext = (): Context => ({ brackets: [], lambdas: [], previous: undefined, before: undefined, pending: undefined });
  const contexts: Context[] = [newContext()];
  const keepPending = (context: Context): void => {
    if (context.pending) names.push(context.pending);
    context.pending = undefined;
  };

  tokens.forEach((token, index) => {
    const context = contexts[contexts.length - 1];
    if (token.kind === 'field-open') {
      keepPending(context);
      contexts.push(newContext());
      return;
    }
    if (token.kind === 'field-close') {
      keepPending(context);
      if (contexts.length > 1) contexts.pop();
      return;
    }
    if (token.kind === 'op' && context.pending) {
      const top = context.brackets[context.brackets.length - 1];
      const inLambdaParams = context.lambdas[context.lambdas.length - 1] === context.brackets.length;
      const keywordArgument = token.text === '=' && top?.char === '(' && top.call && !top.params && !inLambdaParams;
      if (!keywordArgument) names.push(context.pending);
      context.pending = undefined;
    } else {
      keepPending(context);
    }

    if (token.kind === 'name') {
      const afterDot = context.previous?.kind === 'op' && context.previous.text === '.';
      if (token.text === 'lambda') context.lambdas.push(context.brackets.length);
      if (!afterDot && !KEYWORDS.has(token.text) && !skipped.has(index)) {
        context.pending = { name: token.text.normalize('NFKC'), start: token.start, end: token.end };
      }
    } else if (token.kind === 'op') {
      const c = token.text;
      if (c === '(' || c === '[' || c === '{') {
        const prev = context.previous;
        const call = c === '(' && prev !== undefined &&
          ((prev.kind === 'name' && !KEYWORDS.has(prev.text)) || (prev.kind === 'op' && (prev.text === ')' || prev.text === ']')));
        const params = c === '(' && prev?.kind === 'name' && context.before?.kind === 'name' && context.before.text === 'def';
        context.brackets.push({ char: c, call, params });
      } else if (c === ')' || c === ']' || c === '}') {
        if (context.lambdas[context.lambdas.length - 1] === context.brackets.length) context.lambdas.pop();
        context.brackets.pop();
      } else if (c === ':' && context.lambdas[context.lambdas.length - 1] === context.brackets.length) {
        context.lambdas.pop();
      }
    }
    context.before = context.previous;
    context.previous = token;
  });
  for (const context of contexts) keepPending(context);
  return names;
}
