/**
 * The text parts of breakpoints as VS Code sends them: hit conditions ("> 5", "% 3") and log
 * message templates ("x is {x}"). Conditions and the expressions in templates are evaluated by
 * whatever the caller passes in (in the debugger: the ExpressionEvaluator over a frame's locals).
 */
import type { EvalResult } from './expression-evaluator';

export type HitCondition = { readonly test: (hits: number) => boolean } | { readonly error: string };

const HIT_TESTS: Readonly<Record<string, (hits: number, n: number) => boolean>> = {
  '==': (hits, n) => hits === n,
  '!=': (hits, n) => hits !== n,
  '>': (hits, n) => hits > n,
  '>=': (hits, n) => hits >= n,
  '<': (hits, n) => hits < n,
  '<=': (hits, n) => hits <= n,
  '%': (hits, n) => hits % n === 0,
};

const HIT_FORMS = 'N (the Nth hit), == N, != N, > N, >= N, < N, <= N or % N (every Nth hit), N a whole number';

/** `hits` counts from 1: the first time the breakpoint's line (and condition) is reached is hit 1. */
export function parseHitCondition(text: string): HitCondition {
  const match = /^\s*(==|!=|>=|<=|>|<|%)?\s*(\d+)\s*$/.exec(text);
  if (!match) return { error: `the hit condition "${text.trim()}" is not understood; use ${HIT_FORMS}` };
  const operator = match[1] ?? '==';
  const n = Number(match[2]);
  if (operator === '%' && n === 0) return { error: 'the hit condition "% 0" divides by zero; use % N with N of 1 or more' };
  const compare = HIT_TESTS[operator];
  return { test: (hits) => compare(hits, n) };
}

export type LogPart = { readonly text: string } | { readonly expression: string };

/**
 * Splits a log message template into literal text and `{expression}` parts. `{{` and `}}` are
 * literal braces. An expression ends at the `}` that closes its `{`: brackets nest inside it, and
 * brackets inside its string literals do not count. Templates are forgiving, since a log point
 * should log something even when mistyped: an unclosed `{` and everything after it, an empty `{}`
 * and a lone `}` are kept as literal text. Expressions are trimmed; adjacent text parts are merged.
 */
export function splitLogMessage(template: string): LogPart[] {
  const parts: LogPart[] = [];
  let text = '';
  const flushText = (): void => {
    if (text !== '') parts.push({ text });
    text = '';
  };
  let i = 0;
  while (i < template.length) {
    const c = template[i];
    if ((c === '{' || c === '}') && template[i + 1] === c) {
      text += c;
      i += 2;
    } else if (c === '{') {
      const end = expressionEnd(template, i + 1);
      const expression = end === undefined ? '' : template.slice(i + 1, end).trim();
      if (end === undefined) {
        text += template.slice(i);
        i = template.length;
      } else if (expression === '') {
        text += template.slice(i, end + 1);
        i = end + 1;
      } else {
        flushText();
        parts.push({ expression });
        i = end + 1;
      }
    } else {
      text += c;
      i++;
    }
  }
  flushText();
  return parts;
}

const OPENERS = '([{';
const CLOSERS = ')]}';

/** Index of the `}` that ends an expression starting at `from`, or undefined when it never ends. */
function expressionEnd(template: string, from: number): number | undefined {
  let depth = 0;
  let i = from;
  while (i < template.length) {
    const c = template[i];
    if (c === "'" || c === '"') {
      const after = stringEnd(template, i);
      if (after === undefined) return undefined;
      i = after;
      continue;
    }
    if (c === '}' && depth === 0) return i;
    if (OPENERS.includes(c)) depth++;
    else if (CLOSERS.includes(c) && depth > 0) depth--;
    i++;
  }
  return undefined;
}

/** Index just past the Python string literal whose opening quote is at `start`; undefined if unterminated. */
function stringEnd(text: string, start: number): number | undefined {
  const q = text[start];
  const quote = text.startsWith(q.repeat(3), start) ? q.repeat(3) : q;
  let i = start + quote.length;
  while (i < text.length) {
    if (text[i] === '\\') i += 2;
    else if (text.startsWith(quote, i)) return i + quote.length;
    else if (quote.length === 1 && text[i] === '\n') return undefined;
    else i++;
  }
  return undefined;
}

/**
 * Fills in a log message template. Each expression is shown as Python's str() of its value, as an
 * f-string would: the evaluator is asked for `str((expression))` and the quotes of that string's
 * repr are taken off. A failure shows as `<error: message>`.
 */
export async function formatLogMessage(template: string, evaluate: (expression: string) => Promise<EvalResult>): Promise<string> {
  const parts = splitLogMessage(template);
  const texts = await Promise.all(parts.map(async (part) => {
    if ('text' in part) return part.text;
    let result: EvalResult;
    try {
      // Newlines keep a trailing comment in the expression from swallowing the closing brackets.
      result = await evaluate(`str((\n${part.expression}\n))`);
    } catch (error) {
      result = { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    return result.ok ? unquotePythonString(result.value) : `<error: ${result.error}>`;
  }));
  return texts.join('');
}

const TRUNCATION = /\.\.\.<\+\d+ chars>$/;

/**
 * The string a Python str repr stands for. A repr cut short by the evaluator keeps its cut mark;
 * anything that is not a str repr is returned as it is.
 */
function unquotePythonString(repr: string): string {
  const cut = TRUNCATION.exec(repr);
  const body = cut ? repr.slice(0, cut.index) : repr;
  const q = body[0];
  if (q !== "'" && q !== '"') return repr;
  if (cut) return decodeEscapes(body.slice(1), true) + cut[0];
  if (body.length < 2 || body[body.length - 1] !== q) return repr;
  return decodeEscapes(body.slice(1, -1), false);
}

// What repr() writes; any other character it shows as \x, \u or \U.
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\', "'": "'", '"': '"', n: '\n', r: '\r', t: '\t' };
const HEX_ESCAPES: Readonly<Record<string, number>> = { x: 2, u: 4, U: 8 };

/** Python's escapes in a str repr; `partial`: the text may end inside an escape, which is dropped. */
function decodeEscapes(text: string, partial: boolean): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c !== '\\') {
      out += c;
      i++;
      continue;
    }
    const kind = text[i + 1];
    if (kind === undefined) {
      if (!partial) out += c;
      break;
    }
    const width = HEX_ESCAPES[kind];
    if (width !== undefined) {
      const digits = text.slice(i + 2, i + 2 + width);
      const code = digits.length === width && /^[0-9a-fA-F]+$/.test(digits) ? parseInt(digits, 16) : -1;
      if (code >= 0 && code <= 0x10ffff) {
        out += String.fromCodePoint(code);
        i += 2 + width;
        continue;
      }
      if (partial && i + 2 + width > text.length) break;
    }
    const simple = SIMPLE_ESCAPES[kind];
    out += simple ?? c + kind;
    i += 2;
  }
  return out;
}
