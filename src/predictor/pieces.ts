/**
 * Model output as the parser must read it: decoded pieces that keep special tokens apart from text, so
 * that a `<|frame_sep|>` the model spells inside a string value (several ordinary tokens) stays text and
 * only the real token id ends a frame.
 */
import type { CwmTokenizer, DecodedPiece } from '../model/tokenizer';
import { displayFrameText } from '../trace/encoder';
import type { ParseEvent, TraceParser } from '../trace/parser';
import { SPECIAL_TOKENS as T } from '../trace/tokens';

/** The pieces of a run of tokens, decoded on their own (a cut character at the end comes out as U+FFFD). */
export function decodePieces(tokenizer: CwmTokenizer, tokens: readonly number[]): DecodedPiece[] {
  const stream = tokenizer.stream();
  const pieces: DecodedPiece[] = [];
  for (const id of tokens) pieces.push(...stream.push(id));
  pieces.push(...stream.flush());
  return pieces;
}

export function piecesText(pieces: readonly DecodedPiece[]): string {
  return pieces.map((piece) => (piece.kind === 'text' ? piece.text : piece.token)).join('');
}

/** The pieces for a person, as `displayFrameText` shows frames: ⏎ for newlines, a line break after each frame. */
export function displayPieces(pieces: readonly DecodedPiece[]): string {
  return pieces.map((piece) => (piece.kind === 'text' ? displayFrameText(piece.text) : piece.token === T.frameSep ? piece.token + '\n' : piece.token)).join('');
}

export function feedPieces(parser: TraceParser, pieces: readonly DecodedPiece[]): ParseEvent[] {
  const events: ParseEvent[] = [];
  for (const piece of pieces) {
    events.push(...(piece.kind === 'special' ? parser.feedToken(piece.token) : parser.feedPlain(piece.text)));
  }
  return events;
}
