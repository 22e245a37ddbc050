/**
 * Frame-grammar decoding: at each token, only a continuation that keeps the frame well-formed is
 * allowed, so "valid format" is a property of the decoder, not luck of the model. The grammar is the
 * one our tracer writes (cwm-trace-format.md):
 *
 *   EVENT(call|line) {"name": "value", ...} <|action_sep|> SOURCE LINE \n <|frame_sep|>
 *   EVENT(return|exception) <|action_sep|> SOURCE LINE \n <|arg_sep|> "value" <|frame_sep|>
 *   or an end-of-text token where a frame would start.
 *
 * with JSON exactly as Python's json.dumps writes it (", " and ": ", ASCII only, \uXXXX escapes), and
 * these restrictions from the program (program-facts.ts) and the frames before:
 * - a key is a name of the scope the frame runs in, at most once per frame; a call frame's keys are
 *   exactly one function's parameters (and the free variables it uses), or some of a generator's,
 *   class body's or lambda's names, and its line is then the def line of a function they fit;
 * - ".." only in a line frame, only for a name the previous call/line frame held; no value is empty,
 *   and nothing follows a whole str or container repr (repr-shape.ts);
 * - a line frame holds every name its activation held before (a bound local stays bound), unless the
 *   function can unbind one (`del`, `except ... as name`);
 * - the action is a line of the prompt: a def/class/lambda line for a call frame, else a line of the
 *   scope the frame runs in (every executable line when that scope is unknown).
 *
 * The checker works on bytes, so a BPE token that spans several parts (`", "` or `"}`) is checked as
 * a whole, and it never looks ahead: a token is allowed when the frame can still be completed after it.
 *
 * A frame must also end within its token budget (a small model can repeat `1, 1, 1, ...` inside a value
 * forever): once the tokens left come down to what closing the frame may take, an open value or
 * locals object may only be closed.
 */
import type { TokenConstraint } from '../model/constraint';
import type { CwmTokenizer } from '../model/tokenizer';
import type { FrameEvent } from '../trace/frame';
import { pyJsonString } from '../trace/pyjson';
import { SPECIAL_TOKENS as T, SpecialToken } from '../trace/tokens';
import { FrameRules, frameRules, FrameSoFar, ProgramFacts } from './program-facts';
import { REPR_START, reprChar, ReprShape } from './repr-shape';
import { bytesKey, TokenTable, tokenTable } from './token-bytes';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
/** The character each JSON escape (after its backslash) stands for. */
const JSON_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['"', '"'],
  ['\\', '\\'],
  ['/', '/'],
  ['b', '\b'],
  ['f', '\f'],
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
]);
const EVENTS: ReadonlyMap<string, FrameEvent> = new Map([
  [T.callSep, 'call'],
  [T.lineSep, 'line'],
  [T.returnSep, 'return'],
  [T.exceptionSep, 'exception'],
]);

type Phase =
  | { readonly k: 'event' }
  | { readonly k: 'special'; readonly token: SpecialToken; readonly then: Phase }
  | { readonly k: 'literal'; readonly bytes: readonly number[]; readonly at: number; readonly then: Phase }
  | { readonly k: 'object-open' }
  | { readonly k: 'object-first' }
  | { readonly k: 'object-next' }
  | { readonly k: 'key'; readonly text: string }
  /** `head`: the value's first characters (up to 3), enough to tell "..". escape: 0 none, 1 after a
   *  backslash, 2-5 hex digits of \uXXXX still to come. */
  | { readonly k: 'value'; readonly key: string | undefined; readonly head: string; readonly escape: number; readonly hex: string; readonly shape: ReprShape }
  | { readonly k: 'line'; readonly candidates: readonly number[]; readonly at: number; readonly then: Phase }
  | { readonly k: 'done' };

interface State {
  readonly phase: Phase;
  readonly event: FrameEvent | undefined;
  readonly used: readonly string[];
}

const encoder = new TextEncoder();

/** The grammar of the frame that follows `history`, for a model with this tokenizer and these end ids. */
export function grammarAfter(tokenizer: CwmTokenizer, facts: ProgramFacts, history: readonly FrameSoFar[], endTokenIds: ReadonlySet<number>): FrameGrammar {
  return new FrameGrammar(tokenTable(tokenizer), frameRules(facts, history), endTokenIds);
}

export class FrameGrammar implements TokenConstraint {
  private state: State = { phase: { k: 'event' }, event: undefined, used: [] };
  /** The budget is nearly spent: values and the locals object may only close. */
  private closing = false;
  private readonly lineBytes = new Map<number, Uint8Array>();
  /** Keys a line, return or exception frame may have: its scope's names. */
  private readonly keys: ReadonlySet<string>;
  /** The program's call signatures with their names as written keys. */
  private readonly signatures: ReadonlyArray<{ readonly line: number; readonly keys: ReadonlySet<string>; readonly exact: boolean }>;
  /** Keys a line frame must have written before its object may close. */
  private readonly required: ReadonlySet<string>;

  constructor(
    private readonly table: TokenTable,
    private readonly rules: FrameRules,
    private readonly endTokenIds: ReadonlySet<number>,
  ) {
    // Keys as json.dumps writes them inside the quotes (a non-ASCII name is \u-escaped).
    const written = (names: ReadonlySet<string>): ReadonlySet<string> => new Set([...names].map((name) => pyJsonString(name).slice(1, -1)));
    this.keys = written(new Set([...rules.current.names, ...rules.required]));
    this.required = written(rules.required);
    this.signatures = rules.signatures.map((signature) => ({ line: signature.line, keys: written(signature.names), exact: signature.exact }));
  }

  /** The event the frame has, once its first token is in. */
  get event(): FrameEvent | undefined {
    return this.state.event;
  }

  get complete(): boolean {
    return this.state.phase.k === 'done';
  }

  allows(id: number): boolean {
    const next = this.next(this.state, id);
    return next !== undefined && (!this.closing || this.closes(id));
  }

  allowedPrefix(id: number): number | undefined {
    const bytes = this.table.bytes[id];
    if (!bytes) return undefined;
    for (let length = bytes.length - 1; length > 0; length--) {
      const prefix = this.table.byBytes.get(bytesKey(bytes.subarray(0, length)));
      if (prefix !== undefined && this.allows(prefix)) return prefix;
    }
    return undefined;
  }

  tokensLeft(count: number): void {
    this.closing = count <= this.closingCost();
  }

  /**
   * Tokens that closing the frame from here may take, at worst: the end of a value and of the object,
   * the separators, and the longest line the action may still name at a byte a token (the grammar lets
   * the model spell a line in any pieces it likes).
   */
  private closingCost(): number {
    const phase = this.state.phase;
    if (phase.k !== 'value' && phase.k !== 'object-next' && phase.k !== 'object-first') return 0;
    if (phase.k === 'value' && phase.key === undefined) return 3;
    const lines = this.state.event === 'call' ? this.signatures.map((signature) => signature.line) : this.rules.current.lines;
    let longest = 0;
    for (const index of lines) longest = Math.max(longest, this.bytesOfLine(index).length);
    return 6 + longest;
  }

  /** While closing: in a value, a token that ends it; between locals, one that ends the object. */
  private closes(id: number): boolean {
    const phase = this.state.phase;
    const first = this.table.bytes[id]?.[0];
    // An empty value, an escape or a ".." (which may not end there) must first be written on.
    if (phase.k === 'value') return phase.head === '' || phase.head === '.' || phase.head === '..' || phase.escape !== 0 || first === QUOTE;
    if (phase.k === 'object-next' || phase.k === 'object-first') return first === 0x7d || !this.holdsRequired(this.state);
    // A key a line frame writes while closing must be one it still owes.
    if (phase.k === 'key' && this.state.event === 'line') {
      const next = this.next(this.state, id);
      const text = next?.phase.k === 'key' ? next.phase.text : next ? next.used[next.used.length - 1] : undefined;
      return text !== undefined && [...this.required].some((key) => key.startsWith(text) && !this.state.used.includes(key));
    }
    return true;
  }

  accept(id: number): void {
    const next = this.next(this.state, id);
    if (!next) throw new Error(`token ${id} does not continue the frame`);
    this.state = next;
  }

  private next(state: State, id: number): State | undefined {
    if (state.phase.k === 'done') return undefined;
    if (this.endTokenIds.has(id)) return state.phase.k === 'event' ? { ...state, phase: { k: 'done' } } : undefined;
    const added = this.table.added.get(id);
    if (added !== undefined) return this.special(state, added);
    const bytes = this.table.bytes[id];
    if (!bytes || bytes.length === 0) return undefined;
    let current: State | undefined = state;
    for (let i = 0; i < bytes.length && current; i++) current = this.byte(current, bytes[i]);
    return current;
  }

  private special(state: State, token: string): State | undefined {
    const phase = state.phase;
    if (phase.k === 'event') {
      const event = EVENTS.get(token);
      if (!event) return undefined;
      const start: Phase =
        event === 'call' || event === 'line'
          ? { k: 'object-open' }
          : { k: 'special', token: T.actionSep, then: this.linePhase({ k: 'special', token: T.argSep, then: { k: 'literal', bytes: [QUOTE], at: 0, then: { k: 'value', key: undefined, head: '', escape: 0, hex: '', shape: REPR_START } } }) };
      return { phase: start, event, used: [] };
    }
    if (phase.k === 'special' && phase.token === token) return { ...state, phase: phase.then };
    return undefined;
  }

  private byte(state: State, b: number): State | undefined {
    const phase = state.phase;
    const go = (next: Phase): State => ({ ...state, phase: next });
    switch (phase.k) {
      case 'literal': {
        if (phase.bytes[phase.at] !== b) return undefined;
        return go(phase.at + 1 === phase.bytes.length ? phase.then : { ...phase, at: phase.at + 1 });
      }
      case 'object-open':
        return b === 0x7b ? go({ k: 'object-first' }) : undefined; // {
      case 'object-first':
        if (b === QUOTE) return this.canAddKey(state) ? go({ k: 'key', text: '' }) : undefined;
        return b === 0x7d && this.holdsRequired(state) ? go(this.afterLocals(state)) : undefined; // }
      case 'object-next':
        if (b === 0x2c) return this.canAddKey(state) ? go({ k: 'literal', bytes: [0x20, QUOTE], at: 0, then: { k: 'key', text: '' } }) : undefined; // , "
        return b === 0x7d && this.holdsRequired(state) ? go(this.afterLocals(state)) : undefined;
      case 'key': {
        const keys = state.event === 'call' ? this.callKeys(state.used) : this.keys;
        if (b === QUOTE) {
          if (!keys.has(phase.text) || state.used.includes(phase.text)) return undefined;
          const value: Phase = { k: 'value', key: phase.text, head: '', escape: 0, hex: '', shape: REPR_START };
          return { ...state, used: [...state.used, phase.text], phase: { k: 'literal', bytes: [0x3a, 0x20, QUOTE], at: 0, then: value } }; // : "
        }
        if (b < 0x20 || b > 0x7e) return undefined;
        const text = phase.text + String.fromCharCode(b);
        for (const key of keys) if (key.startsWith(text) && !state.used.includes(key)) return go({ k: 'key', text });
        return undefined;
      }
      case 'value':
        return this.valueByte(state, phase, b);
      case 'line': {
        if (b === NEWLINE) {
          return phase.candidates.some((index) => this.bytesOfLine(index).length === phase.at) ? go(phase.then) : undefined;
        }
        const candidates = phase.candidates.filter((index) => this.bytesOfLine(index)[phase.at] === b);
        return candidates.length > 0 ? go({ ...phase, candidates, at: phase.at + 1 }) : undefined;
      }
      default:
        return undefined;
    }
  }

  private valueByte(state: State, phase: Extract<Phase, { k: 'value' }>, b: number): State | undefined {
    const go = (next: Phase): State => ({ ...state, phase: next });
    // The JSON string is read back to the repr's characters, which must keep a repr's outline.
    const withChar = (char: string, next: Omit<typeof phase, 'shape'>): State | undefined => {
      const shape = reprChar(phase.shape, char);
      return shape ? go({ ...next, shape }) : undefined;
    };
    if (phase.escape === 1) {
      if (b === 0x75) return go({ ...phase, escape: 2, hex: '' }); // \u
      const decoded = JSON_ESCAPES.get(String.fromCharCode(b));
      return decoded === undefined ? undefined : withChar(decoded, { ...phase, escape: 0 });
    }
    if (phase.escape >= 2) {
      if (!/[0-9a-fA-F]/.test(String.fromCharCode(b))) return undefined;
      const hex = phase.hex + String.fromCharCode(b);
      if (phase.escape < 5) return go({ ...phase, escape: phase.escape + 1, hex });
      return withChar(String.fromCharCode(parseInt(hex, 16)), { ...phase, escape: 0, hex: '' });
    }
    if (b === QUOTE) {
      if (phase.head === '') return undefined; // no repr is empty
      if (phase.head === '..' && (phase.key === undefined || state.event !== 'line' || !this.rules.unchanged.has(phase.key))) return undefined;
      return go(phase.key === undefined ? { k: 'special', token: T.frameSep, then: { k: 'done' } } : { k: 'object-next' });
    }
    if (b < 0x20 || b > 0x7e) return undefined; // json.dumps writes ASCII only
    // After a whole repr only the value's end may come (an escape would be one more character).
    if (phase.shape.kind === 'done') return undefined;
    const head = phase.head.length < 3 ? phase.head + String.fromCharCode(b) : phase.head;
    if (b === BACKSLASH) return go({ ...phase, head, escape: 1 });
    return withChar(String.fromCharCode(b), { ...phase, head, escape: 0 });
  }

  /** Whether a further key can be written: a key opened with nothing left to name is a dead end. */
  private canAddKey(state: State): boolean {
    const keys = state.event === 'call' ? this.callKeys(state.used) : this.keys;
    for (const key of keys) if (!state.used.includes(key)) return true;
    return false;
  }

  /** Keys a call frame may still write: those of the signatures its keys so far fit. */
  private callKeys(used: readonly string[]): ReadonlySet<string> {
    const keys = new Set<string>();
    for (const signature of this.fitting(used, false)) for (const key of signature.keys) keys.add(key);
    return keys;
  }

  /** Signatures holding every key written; `whole`: and no other (where the signature is exact). */
  private fitting(used: readonly string[], whole: boolean): typeof this.signatures {
    return this.signatures.filter((signature) => used.every((key) => signature.keys.has(key)) && (!whole || !signature.exact || signature.keys.size === used.length));
  }

  private holdsRequired(state: State): boolean {
    if (state.event === 'call') return this.fitting(state.used, true).length > 0;
    if (state.event !== 'line') return true;
    for (const key of this.required) if (!state.used.includes(key)) return false;
    return true;
  }

  private afterLocals(state: State): Phase {
    const then: Phase = { k: 'special', token: T.frameSep, then: { k: 'done' } };
    if (state.event !== 'call') return { k: 'special', token: T.actionSep, then: this.linePhase(then) };
    // A call frame names the def line of a function its locals fit.
    const lines = new Set(this.fitting(state.used, true).map((signature) => signature.line));
    return { k: 'special', token: T.actionSep, then: { k: 'line', candidates: [...lines], at: 0, then } };
  }

  /** The action of a line, return or exception frame: a line of the scope it runs in. */
  private linePhase(then: Phase): Phase {
    return { k: 'line', candidates: [...this.rules.current.lines], at: 0, then };
  }

  private bytesOfLine(index: number): Uint8Array {
    let bytes = this.lineBytes.get(index);
    if (!bytes) {
      bytes = encoder.encode(this.rules.lines[index] ?? '');
      this.lineBytes.set(index, bytes);
    }
    return bytes;
  }
}
