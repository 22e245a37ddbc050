/** CWM's special tokens: the strings the model reads and writes, and their ids in the real tokenizer. */

export const SPECIAL_TOKENS = {
  beginOfText: '<|begin_of_text|>',
  endOfText: '<|end_of_text|>',
  frameSep: '<|frame_sep|>',
  actionSep: '<|action_sep|>',
  returnSep: '<|return_sep|>',
  callSep: '<|call_sep|>',
  lineSep: '<|line_sep|>',
  exceptionSep: '<|exception_sep|>',
  argSep: '<|arg_sep|>',
  traceContextStart: '<|trace_context_start|>',
} as const;

export type SpecialTokenName = keyof typeof SPECIAL_TOKENS;
export type SpecialToken = (typeof SPECIAL_TOKENS)[SpecialTokenName];

/** Ids in facebook/cwm's Llama-3 tokenizer. Model folders carry their own ids; these are the reference. */
export const CWM_TOKEN_IDS: Readonly<Record<SpecialToken, number>> = {
  '<|begin_of_text|>': 128000,
  '<|end_of_text|>': 128001,
  '<|frame_sep|>': 128100,
  '<|action_sep|>': 128101,
  '<|return_sep|>': 128102,
  '<|call_sep|>': 128103,
  '<|line_sep|>': 128104,
  '<|exception_sep|>': 128105,
  '<|arg_sep|>': 128106,
  '<|trace_context_start|>': 128107,
};

const BY_STRING: ReadonlyMap<string, SpecialToken> = new Map(
  Object.values(SPECIAL_TOKENS).map((token) => [token, token]),
);

export function asSpecialToken(text: string): SpecialToken | undefined {
  return BY_STRING.get(text);
}

/** The comment that marks the function a trace starts in, exactly as CWM's prompts write it. */
export const START_OF_TRACE_MARKER = '# << START_OF_TRACE';
export const START_OF_TRACE_SUFFIX = '  ' + START_OF_TRACE_MARKER;
