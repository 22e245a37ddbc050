/**
 * Runs tasks one at a time, in arrival order: the ONNX engine computes one thing at a time, and a
 * request that waits is better than two that thrash. A waiting task whose signal fires leaves the
 * line at once, so a client that hung up frees its place.
 */
import { ModelError } from '../backend';

interface Waiting {
  readonly start: () => void;
  readonly cancel: (error: ModelError) => void;
}

export class SerialQueue {
  private running = false;
  private readonly waiting: Waiting[] = [];

  /** Tasks waiting for their turn (not counting the one running). */
  get pending(): number {
    return this.waiting.length;
  }

  get busy(): boolean {
    return this.running;
  }

  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(new ModelError('cancelled', 'cancelled'));
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.waiting.indexOf(entry);
        if (index >= 0) {
          this.waiting.splice(index, 1);
          reject(new ModelError('cancelled', 'cancelled'));
        }
      };
      const entry: Waiting = {
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          this.running = true;
          Promise.resolve()
            .then(task)
            .then(resolve, reject)
            .finally(() => {
              this.running = false;
              this.next();
            });
        },
        cancel: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
      this.next();
    });
  }

  /** Rejects every waiting task (the running one finishes on its own). */
  rejectWaiting(error: ModelError): void {
    for (const entry of this.waiting.splice(0)) entry.cancel(error);
  }

  private next(): void {
    if (this.running) return;
    this.waiting.shift()?.start();
  }
}
