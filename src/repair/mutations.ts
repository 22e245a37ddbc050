/**
 * Program-repair mutations of one line of Python: the small edits that fix most one-line bugs
 * (off-by-one on bounds and indices, comparison and boolean flips, a wrong operator, a wrong variable of
 * the same type, swapped arguments, a wrong constant, a missing return). Each keeps strings and comments
 * as they are, and says what it changed.
 */

export interface LineMutation {
  /** The new line (or lines, for an inserted `return`), without a trailing newline. */
  readonly text: string;
  /** What changed, for the user: "`<` → `<=`". */
  readonly change: string;
}

interface Token {
  readonly kind: 'name' | 'number' | 'string' | 'op' | 'space' | 'comment';
  readonly text: string;
}

const TOKEN = /\s+|#.*$|(?:[rRbBuUfF]{1,2})?(?:'''[\s\S]*?'''|"""[\s\S]*?"""|'(?:\\.|[^'\\])*'?|"(?:\\.|[^"\\])*"?)|\d[\d_]*(?:\.\d*)?(?:[eE][+-]?\d+)?j?|\.\d+|[A-Za-z_]\w*|\*\*=|\/\/=|>>=|<<=|\*\*|\/\/|>>|<<|<=|>=|==|!=|->|\+=|-=|\*=|\/=|%=|&=|\|=|\^=|:=|[^\s]/gy;

export function tokenizeLine(line: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < line.length) {
    const start = TOKEN.lastIndex;
    const match = TOKEN.exec(line);
    if (!match) break;
    const text = match[0];
    const kind: Token['kind'] = /^\s/.test(text) ? 'space' : text.startsWith('#') ? 'comment' : /^(?:[rRbBuUfF]{1,2})?['"]/.test(text) ? 'string' : /^[\d.]/.test(text) && text !== '.' ? 'number' : /^[A-Za-z_]/.test(text) ? 'name' : 'op';
    tokens.push({ kind, text });
    if (TOKEN.lastIndex === start) TOKEN.lastIndex++;
  }
  return tokens;
}

const SWAPS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['<', ['<=', '>']],
  ['<=', ['<', '>=']],
  ['>', ['>=', '<']],
  ['>=', ['>', '<=']],
  ['==', ['!=']],
  ['!=', ['==']],
  ['+', ['-']],
  ['-', ['+']],
  ['*', ['+', '//']],
  ['/', ['//']],
  ['//', ['/', '%']],
  ['%', ['//']],
  ['+=', ['-=', '*=']],
  ['-=', ['+=']],
  ['*=', ['+=']],
  ['^', ['&']],
  ['&', ['|', '^']],
  ['|', ['&']],
  ['^=', ['&=']],
  ['&=', ['|=', '^=']],
  ['|=', ['&=']],
  ['>>', ['<<']],
  ['<<', ['>>']],
  ['and', ['or']],
  ['or', ['and']],
  ['True', ['False']],
  ['False', ['True']],
  ['min', ['max']],
  ['max', ['min']],
];
const SWAP_TABLE = new Map(SWAPS);
const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'if', 'else', 'elif', 'while', 'for', 'return', 'def', 'lambda', 'None', 'True', 'False', 'pass', 'break', 'continue', 'import', 'from', 'as', 'with', 'try', 'except', 'finally', 'raise', 'del', 'global', 'nonlocal', 'assert', 'yield', 'class', 'async', 'await']);

/**
 * Mutations of `line`. `sameType` gives, for a local name, the other locals of the same type at that
 * line (from the real trace), for wrong-variable swaps.
 */
export function mutateLine(line: string, sameType: (name: string) => readonly string[] = () => []): LineMutation[] {
  const tokens = tokenizeLine(line);
  const out: LineMutation[] = [];
  const seen = new Set<string>([line]);
  const add = (text: string, change: string): void => {
    if (seen.has(text)) return;
    seen.add(text);
    out.push({ text, change });
  };
  const withToken = (i: number, text: string): string => tokens.map((token, k) => (k === i ? text : token.text)).join('');
  const isUnaryMinus = (i: number): boolean => {
    const before = previousCode(tokens, i);
    return before === undefined || (before.kind === 'op' && !')]}'.includes(before.text)) || (before.kind === 'name' && KEYWORDS.has(before.text));
  };

  tokens.forEach((token, i) => {
    if (token.kind === 'string' || token.kind === 'comment' || token.kind === 'space') return;
    const swaps = SWAP_TABLE.get(token.text);
    if (swaps && !(token.text === '-' && isUnaryMinus(i)) && !(token.text === '*' && isStarArgument(tokens, i))) {
      for (const swap of swaps) add(withToken(i, swap), `\`${token.text}\` → \`${swap}\``);
    }
    if (token.kind === 'number' && /^\d+$/.test(token.text)) {
      const value = Number(token.text);
      for (const next of [value + 1, value - 1]) if (next >= 0) add(withToken(i, String(next)), `\`${value}\` → \`${next}\``);
      if (value === 1 && isUnaryMinus(i) === false) add(withToken(i, '-1'), '`1` → `-1`');
    }
    if (token.text === '-' && isUnaryMinus(i) && tokens[i + 1]?.text === '1') add(withToken(i, ''), '`-1` → `1`');
    if (token.text === 'not') add(tokens.map((t, k) => (k === i || (k === i + 1 && t.kind === 'space') ? '' : t.text)).join(''), 'removed `not`');
    if (token.kind === 'name' && !KEYWORDS.has(token.text)) {
      const after = nextCode(tokens, i);
      const before = previousCode(tokens, i);
      if (before?.text !== '.' && after?.text !== '(' && after?.text !== '=') {
        for (const other of sameType(token.text)) add(withToken(i, other), `\`${token.text}\` → \`${other}\``);
      }
    }
    // Off by one: a subscript's index, the end of a range, a len().
    if (token.text === ']' || (token.text === ')' && closesCallOf(tokens, i, ['range', 'len']))) {
      const open = matchingOpen(tokens, i);
      const inner = tokens.slice(open + 1, i).map((t) => t.text).join('');
      if (open >= 0 && inner.trim() !== '' && !inner.includes(':') && (token.text === ']' ? tokens[open - 1]?.kind === 'name' || tokens[open - 1]?.text === ']' || tokens[open - 1]?.text === ')' : true)) {
        const name = token.text === ')' ? tokens[open - 1]?.text : 'index';
        if (token.text === ')' && name === 'len') {
          for (const delta of [' - 1', ' + 1']) add(tokens.map((t, k) => (k === i ? t.text + delta : t.text)).join(''), `\`len(${inner})\` → \`len(${inner})${delta}\``);
        } else {
          // The delta goes after the last argument: a range's end, a subscript's index.
          const comma = lastTopLevelComma(tokens, open, i);
          const last = tokens.slice(comma < 0 ? open + 1 : comma + 1, i).map((t) => t.text).join('').trim();
          for (const delta of [' + 1', ' - 1']) add(tokens.map((t, k) => (k === i - 1 ? t.text + delta : t.text)).join(''), `\`${last}\` → \`${last}${delta}\`${name === 'range' ? ' in range()' : ''}`);
        }
      }
    }
    if (token.text === '(' && tokens[i - 1]?.kind === 'name' && !KEYWORDS.has(tokens[i - 1].text)) {
      const close = matchingClose(tokens, i);
      const args = close < 0 ? [] : topLevelArguments(tokens, i, close);
      for (let a = 0; a + 1 < args.length; a++) {
        const swapped = [...args];
        [swapped[a], swapped[a + 1]] = [swapped[a + 1], swapped[a]];
        if (swapped.some((arg) => arg.includes('='))) continue;
        const prefix = tokens.slice(0, i + 1).map((t) => t.text).join('');
        const suffix = tokens.slice(close).map((t) => t.text).join('');
        add(prefix + swapped.map((arg, k) => (k === 0 ? arg.trim() : ' ' + arg.trim())).join(',') + suffix, `swapped \`${args[a].trim()}\` and \`${args[a + 1].trim()}\``);
      }
    }
  });
  const indent = /^\s*/.exec(line)?.[0] ?? '';
  const stripped = line.trim();
  if (/^(?:if|elif|while)\s/.test(stripped) && !/^(?:if|elif|while)\s+not\s/.test(stripped)) {
    add(line.replace(/^(\s*(?:if|elif|while)\s+)(.*?)(\s*:\s*(?:#.*)?)$/, '$1not ($2)$3'), 'negated the condition');
  }
  // A base case that returns the wrong thing: its value as a constant instead.
  if (/^return\s+[A-Za-z_]\w*\s*$/.test(stripped)) for (const constant of ['0', '1']) add(`${indent}return ${constant}`, `\`${stripped}\` → \`return ${constant}\``);
  if (/^return\s+\S/.test(stripped) && !/^return\s+not\s/.test(stripped) && /\b(?:and|or|==|!=|<|>|in|is)\b|[<>=!]=?/.test(stripped)) {
    add(`${indent}return not (${stripped.slice('return'.length).trim()})`, 'negated the returned condition');
  }
  return out;
}

function previousCode(tokens: readonly Token[], i: number): Token | undefined {
  for (let k = i - 1; k >= 0; k--) if (tokens[k].kind !== 'space') return tokens[k];
  return undefined;
}

function nextCode(tokens: readonly Token[], i: number): Token | undefined {
  for (let k = i + 1; k < tokens.length; k++) if (tokens[k].kind !== 'space') return tokens[k];
  return undefined;
}

function isStarArgument(tokens: readonly Token[], i: number): boolean {
  const before = previousCode(tokens, i);
  return before === undefined || before.text === '(' || before.text === ',';
}

function matchingOpen(tokens: readonly Token[], close: number): number {
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  let depth = 0;
  for (let k = close; k >= 0; k--) {
    const t = tokens[k].text;
    if (t === tokens[close].text) depth++;
    else if (t === pairs[tokens[close].text] && --depth === 0) return k;
  }
  return -1;
}

function matchingClose(tokens: readonly Token[], open: number): number {
  const pairs: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
  let depth = 0;
  for (let k = open; k < tokens.length; k++) {
    const t = tokens[k].text;
    if (t === tokens[open].text) depth++;
    else if (t === pairs[tokens[open].text] && --depth === 0) return k;
  }
  return -1;
}

function closesCallOf(tokens: readonly Token[], close: number, names: readonly string[]): boolean {
  const open = matchingOpen(tokens, close);
  return open > 0 && names.includes(tokens[open - 1].text);
}

function lastTopLevelComma(tokens: readonly Token[], open: number, close: number): number {
  let depth = 0;
  let last = -1;
  for (let k = open + 1; k < close; k++) {
    const t = tokens[k].text;
    if ('([{'.includes(t)) depth++;
    else if (')]}'.includes(t)) depth--;
    else if (t === ',' && depth === 0) last = k;
  }
  return last;
}

function topLevelArguments(tokens: readonly Token[], open: number, close: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let current = '';
  for (let k = open + 1; k < close; k++) {
    const t = tokens[k].text;
    if ('([{'.includes(t)) depth++;
    else if (')]}'.includes(t)) depth--;
    if (t === ',' && depth === 0) {
      args.push(current);
      current = '';
    } else current += t;
  }
  if (current.trim() !== '') args.push(current);
  return args;
}
