/**
 * CWM's prompt as token ids: `<|begin_of_text|><|trace_context_start|>SOURCE<|frame_sep|>`, with the
 * special tokens as ids and SOURCE encoded as plain text (a program may spell `<|frame_sep|>` in a
 * string; it must stay characters). For a marked entry function called with arguments, the entry's
 * call frame can follow, teacher-forced: without it the model invents its own arguments.
 */
import type { CwmTokenizer } from '../model/tokenizer';
import type { Locals, TraceFrame } from '../trace/frame';
import type { PromptProgram } from '../trace/prompt';
import { scanPython } from '../trace/pysource';
import { SPECIAL_TOKENS as T } from '../trace/tokens';
import { PredictorError } from './errors';
import { encodeFrameTokens } from './frame-tokens';

export interface PromptTokens {
  /** The bare prompt, ending in <|frame_sep|>. */
  readonly prompt: readonly number[];
  /** The entry's call frame with the given locals, when entry locals were given. */
  readonly entryFrame?: { readonly frame: TraceFrame; readonly tokens: readonly number[] };
}

/** The prompt's tokens followed by the entry frame's, if any: what a sequence starts with. */
export function allPromptTokens(prompt: PromptTokens): number[] {
  return [...prompt.prompt, ...(prompt.entryFrame?.tokens ?? [])];
}

export function buildPromptTokens(tokenizer: CwmTokenizer, program: PromptProgram, entryLocals?: Locals): PromptTokens {
  const prompt = [
    tokenizer.special(T.beginOfText),
    tokenizer.special(T.traceContextStart),
    ...tokenizer.encodeText(program.source),
    tokenizer.special(T.frameSep),
  ];
  if (entryLocals === undefined) return { prompt };
  const frame: TraceFrame = { event: 'call', locals: entryLocals, source: entryDefLine(program) };
  return { prompt, entryFrame: { frame, tokens: encodeFrameTokens(tokenizer, frame).tokens } };
}

/**
 * The entry function's def line exactly as SOURCE has it (START_OF_TRACE comment included): the SRC of
 * its call frame, as our tracer records it. The wrapper and script shapes enter a `main()` without
 * parameters whose arguments are bound in its body, so only the marked shape has a call frame to force.
 */
export function entryDefLine(program: PromptProgram): string {
  if (program.shape !== 'marked') {
    throw new PredictorError('bad-entry', `entry locals apply to a marked entry function; this prompt has the ${program.shape} shape, whose main() takes no arguments`);
  }
  const scanned = scanPython(program.source);
  const entry = scanned.functions.find((fn) => fn.parent === undefined && !fn.isClass && fn.name === program.call.function);
  if (!entry) throw new PredictorError('bad-entry', `the prompt source defines no top-level function "${program.call.function}"`);
  return scanned.lines[entry.defLine - 1];
}
