/**
 * Token ids to the text a completion answer carries, the way vLLM's detokenizer writes it:
 * special tokens spelled out unless `skip_special_tokens`, a space around each special token with
 * `spaces_between_special_tokens`, and no character ever split across streamed pieces.
 */
import type { CwmTokenizer, DecodedPiece, TokenStreamDecoder } from '../tokenizer';

export interface RenderOptions {
  readonly skipSpecialTokens: boolean;
  readonly spacesBetweenSpecialTokens: boolean;
}

export class TextRenderer {
  private readonly decoder: TokenStreamDecoder;
  /** What the last non-empty piece was, for the spaces vLLM puts between special tokens and text. */
  private previous: 'none' | 'text' | 'special' = 'none';

  constructor(
    tokenizer: CwmTokenizer,
    private readonly options: RenderOptions,
    /** Added tokens flagged special: what skip_special_tokens leaves out. */
    private readonly specialIds: ReadonlySet<number>,
  ) {
    this.decoder = tokenizer.stream();
  }

  /** The text one more token adds (may be '' while a character's bytes are incomplete). */
  push(id: number): string {
    if (this.options.skipSpecialTokens && this.specialIds.has(id)) return this.join(this.decoder.flush());
    return this.join(this.decoder.push(id));
  }

  /** Whatever is held back: the text is over. */
  flush(): string {
    return this.join(this.decoder.flush());
  }

  /** All of `ids` at once. */
  render(ids: readonly number[]): string {
    let text = '';
    for (const id of ids) text += this.push(id);
    return text + this.flush();
  }

  private join(pieces: readonly DecodedPiece[]): string {
    let text = '';
    for (const piece of pieces) {
      const kind = piece.kind;
      const content = piece.kind === 'text' ? piece.text : piece.token;
      if (content === '') continue;
      if (this.options.spacesBetweenSpecialTokens && this.previous !== 'none' && (kind === 'special' || this.previous === 'special')) text += ' ';
      text += content;
      this.previous = kind;
    }
    return text;
  }
}
