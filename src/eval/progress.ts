/**
 * Progress of a long evaluation on stderr: rows done, total and the time left. On a terminal one line
 * is rewritten in place; in a log (stderr redirected) a line is written every tenth of the way, so a
 * log of a 400-row run holds ten lines, not four hundred.
 */

export interface ProgressOptions {
  readonly write: (text: string) => void;
  /** stderr is a terminal. */
  readonly tty: boolean;
  /** What is counted, e.g. "traced" or "evaluated". */
  readonly label: string;
  readonly now?: () => number;
}

export class Progress {
  private readonly started: number;
  private lastTenth = 0;
  private lineOpen = false;

  constructor(private readonly options: ProgressOptions) {
    this.started = this.now();
  }

  update(done: number, total: number): void {
    if (total <= 0) return;
    const text = `${this.options.label} ${done}/${total} rows${this.eta(done, total)}`;
    if (this.options.tty) {
      this.options.write(`\r${text}\x1b[K`);
      this.lineOpen = true;
      return;
    }
    const tenth = Math.floor((done * 10) / total);
    if (tenth <= this.lastTenth) return;
    this.lastTenth = tenth;
    this.options.write(`${text}\n`);
  }

  /** Ends the line a terminal display keeps open. */
  finish(): void {
    if (this.lineOpen) this.options.write('\n');
    this.lineOpen = false;
  }

  private eta(done: number, total: number): string {
    if (done === 0 || done >= total) return '';
    const left = ((this.now() - this.started) / done) * (total - done);
    return `, about ${formatDuration(left)} left`;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
