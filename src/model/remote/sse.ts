/**
 * Server-sent events, as the WHATWG HTML standard defines the stream format: lines end with CRLF, LF
 * or CR; a blank line ends an event; `data:` lines are joined with LF; lines starting with `:` are
 * comments (keep-alive pings); other fields (`event`, `id`, `retry`) are read and dropped, because an
 * OpenAI-style stream only uses `data`. Text arrives in arbitrary pieces: a piece may end between a
 * CR and its LF, or in the middle of a field name.
 */

/** The `data` of one event; OpenAI-style streams end with the data `[DONE]`. */
export type SseData = string;

export const SSE_DONE = '[DONE]';

export class SseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SseError';
  }
}

export class SseParser {
  /** Text of the line not yet ended. */
  private line = '';
  /** The `data` lines of the event being read; undefined while it has none. */
  private data: string[] | undefined;
  /** Characters held in `data`. */
  private dataLength = 0;
  /** The last piece ended with CR: an LF at the start of the next piece belongs to it. */
  private afterCr = false;

  /** @param maxEventLength most characters one event may hold, so a broken server cannot exhaust memory */
  constructor(private readonly maxEventLength = 64 * 1024 * 1024) {}

  /** Feeds decoded text; returns the data of every event it completed. */
  push(text: string): SseData[] {
    const events: SseData[] = [];
    let start = 0;
    if (this.afterCr && text.startsWith('\n')) start = 1;
    this.afterCr = false;
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line += text.slice(start, i);
      this.endLine(events);
      if (c === 13) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 10) i++;
        } else {
          this.afterCr = true;
        }
      }
      start = i + 1;
    }
    this.line += text.slice(start);
    this.checkLength();
    return events;
  }

  /**
   * The stream is over. An event the server never finished with a blank line is dropped, as the
   * standard says; `unterminated` tells the caller whether there was one, so it can treat the end
   * as a cut rather than a clean finish.
   */
  end(): { unterminated: boolean } {
    const unterminated = this.data !== undefined || this.line.length > 0;
    this.line = '';
    this.data = undefined;
    this.dataLength = 0;
    return { unterminated };
  }

  private endLine(events: SseData[]): void {
    const line = this.line;
    this.line = '';
    if (line === '') {
      if (this.data !== undefined) events.push(this.data.join('\n'));
      this.data = undefined;
      this.dataLength = 0;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    if (field !== 'data') return;
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    (this.data ??= []).push(value);
    this.dataLength += value.length;
    this.checkLength();
  }

  private checkLength(): void {
    if (this.line.length + this.dataLength > this.maxEventLength) {
      throw new SseError(`an event is longer than ${this.maxEventLength} characters`);
    }
  }
}
