/**
 * Evaluates debugger expressions (breakpoint conditions, log messages, watches, hovers) over a
 * frame's locals as the debugger shows them: repr strings, from a real trace or predicted by the
 * model. A long-lived Python helper (eval_expr.py) turns literal reprs into values and runs only a
 * whitelisted subset of Python, so no program code ever runs: this is safe in untrusted workspaces.
 *
 * One request is in flight at a time: a request that overruns its time is answered by killing the
 * helper, and that must not take other requests down with it. The helper restarts on the next one.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Locals } from '../trace/frame';
import { BOOTSTRAP, PYTHON_TOO_OLD_EXIT, resolvePython } from './python';

export type EvalResult =
  | { readonly ok: true; readonly value: string; readonly truthy: boolean }
  | { readonly ok: false; readonly error: string };

export interface ExpressionEvaluatorOptions {
  /** The interpreter; by default python3 (or python) from PATH. */
  readonly python?: string;
  /** Longest one expression may run before the helper is killed (default 1000). */
  readonly timeoutMs?: number;
  /** Path of eval_expr.py; by default the one shipped beside this module. */
  readonly script?: string;
}

const DEFAULT_TIMEOUT_MS = 1000;
/** Starting Python is not the expression's fault: a slow start (pyenv shims, cold disk) gets longer. */
const STARTUP_LIMIT_MS = 10_000;
const CLOSED: EvalResult = { ok: false, error: 'the evaluator was closed' };

interface Request {
  readonly id: number;
  readonly line: string;
  readonly resolve: (result: EvalResult) => void;
}

type Reply =
  | { readonly ready: true }
  | { readonly id: number | null; readonly ok: true; readonly value: string; readonly truthy: boolean }
  | { readonly id: number | null; readonly ok: false; readonly error: string };

/** One running helper process and what it is doing. */
interface Helper {
  readonly child: ChildProcess;
  ready: boolean;
  stderrTail: string;
  /** Its end needs no report: we killed it, or its failure to start was answered already. */
  killed: boolean;
}

export class ExpressionEvaluator {
  private readonly python: string;
  private readonly timeoutMs: number;
  private readonly script: string;
  private readonly queue: Request[] = [];
  private current: Request | undefined;
  private helper: Helper | undefined;
  private timer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private closed = false;
  /** Why this Python can never evaluate (not found, too old, the helper will not start): no more retries. */
  private unusable: string | undefined;

  constructor(options: ExpressionEvaluatorOptions = {}) {
    this.python = resolvePython(options.python);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.script = path.resolve(options.script ?? path.join(__dirname, 'eval_expr.py'));
  }

  /** The helper's process id while one runs (for tests and diagnostics). */
  get pid(): number | undefined {
    return this.helper?.child.pid;
  }

  evaluate(expression: string, locals: Locals): Promise<EvalResult> {
    if (this.closed) return Promise.resolve(CLOSED);
    if (this.unusable !== undefined) return Promise.resolve({ ok: false, error: this.unusable });
    return new Promise((resolve) => {
      const id = this.nextId++;
      const line = JSON.stringify({ id, expr: expression, locals }) + '\n';
      this.queue.push({ id, line, resolve });
      this.pump();
    });
  }

  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopHelper();
    this.failAll(CLOSED);
  }

  /** Sends the next queued request when none is in flight. */
  private pump(): void {
    while (!this.current && !this.closed) {
      const request = this.queue.shift();
      if (!request) return;
      if (this.unusable !== undefined) {
        request.resolve({ ok: false, error: this.unusable });
        continue;
      }
      this.current = request;
      const helper = this.helper ?? this.startHelper();
      if (!helper) return; // it could not start, and said so to every request
      helper.child.stdin?.write(request.line);
      this.armTimer(helper);
    }
  }

  /**
   * The clock runs only once the helper is ready. The timer is the one thing that keeps Node alive
   * while an answer is awaited; an idle helper does not.
   */
  private armTimer(helper: Helper): void {
    clearTimeout(this.timer);
    if (helper.ready) {
      this.timer = setTimeout(() => this.onTimeout(`the expression took longer than ${formatSeconds(this.timeoutMs)}`), this.timeoutMs);
    } else {
      this.timer = setTimeout(() => this.onStartupTimeout(), Math.max(STARTUP_LIMIT_MS, this.timeoutMs));
    }
  }

  private onTimeout(message: string): void {
    this.stopHelper();
    this.answer({ ok: false, error: message });
  }

  private onStartupTimeout(): void {
    this.unusable = `cannot evaluate expressions: Python "${this.python}" did not start within ${formatSeconds(Math.max(STARTUP_LIMIT_MS, this.timeoutMs))}`;
    this.onTimeout(this.unusable);
  }

  /** Resolves the request in flight and moves on to the next. */
  private answer(result: EvalResult): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const request = this.current;
    this.current = undefined;
    request?.resolve(result);
    this.pump();
  }

  private failAll(result: EvalResult): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const pending = this.current ? [this.current, ...this.queue] : [...this.queue];
    this.current = undefined;
    this.queue.length = 0;
    for (const request of pending) request.resolve(result);
  }

  private startHelper(): Helper | undefined {
    let child: ChildProcess;
    try {
      // -I: nothing from the workspace (cwd, PYTHONPATH, user site) may shadow the modules the helper imports.
      child = spawn(this.python, ['-I', '-c', BOOTSTRAP, this.script], {
        stdio: ['pipe', 'pipe', 'pipe'],
        windowsHide: true,
      });
    } catch (error) {
      this.giveUp(`cannot evaluate expressions: cannot start Python "${this.python}": ${(error as Error).message}`);
      return undefined;
    }
    const helper: Helper = { child, ready: false, stderrTail: '', killed: false };
    this.helper = helper;
    // Only a pending answer (its timer) keeps Node alive, never the idle helper.
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) unrefStream(stream);

    const decoder = new StringDecoder('utf8');
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      pending += decoder.write(chunk);
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line !== '') this.onLine(helper, line);
        newline = pending.indexOf('\n');
      }
    });
    const errDecoder = new StringDecoder('utf8');
    child.stderr?.on('data', (chunk: Buffer) => {
      helper.stderrTail = (helper.stderrTail + errDecoder.write(chunk)).slice(-2000);
    });
    // A helper killed mid-write must not become an unhandled 'error' on its stdin.
    child.stdin?.on('error', () => undefined);
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (this.helper !== helper) return;
      this.helper = undefined;
      helper.killed = true; // answered here; its 'close' that may follow is no news
      this.giveUp(error.code === 'ENOENT'
        ? `cannot evaluate expressions: Python "${this.python}" was not found; set neuralDebugger.pythonPath (or --python) to a Python 3.8+ interpreter`
        : `cannot evaluate expressions: cannot run Python "${this.python}": ${error.message}`);
    });
    child.on('close', (code, signal) => this.onExit(helper, code, signal));
    return helper;
  }

  private onLine(helper: Helper, line: string): void {
    if (this.helper !== helper) return;
    let reply: Reply;
    try {
      reply = JSON.parse(line) as Reply;
    } catch {
      return; // not ours: the helper writes nothing else, and a stray line must not stall the queue
    }
    if ('ready' in reply) {
      helper.ready = true;
      if (this.current) this.armTimer(helper);
      return;
    }
    if (!this.current || reply.id !== this.current.id) return;
    this.answer(reply.ok ? { ok: true, value: reply.value, truthy: reply.truthy } : { ok: false, error: reply.error });
  }

  private onExit(helper: Helper, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.helper === helper) this.helper = undefined;
    if (helper.killed || this.closed) return;
    const detail = helper.stderrTail.trim();
    if (code === PYTHON_TOO_OLD_EXIT) {
      this.giveUp(`cannot evaluate expressions: ${detail || 'Python 3.8 or newer is needed'}`);
    } else if (!helper.ready) {
      // It never got as far as reading a request: every restart would end the same way.
      this.giveUp(`cannot evaluate expressions: the Python helper did not start (${exitText(code, signal)})${detail ? `: ${lastLine(detail)}` : ''}`);
    } else if (this.current) {
      // Died on this request (a crash in the interpreter): answer it; the next one restarts the helper.
      this.answer({ ok: false, error: `the expression evaluator stopped (${exitText(code, signal)})${detail ? `: ${lastLine(detail)}` : ''}` });
    }
  }

  private giveUp(message: string): void {
    this.unusable = message;
    this.stopHelper();
    this.failAll({ ok: false, error: message });
  }

  private stopHelper(): void {
    const helper = this.helper;
    this.helper = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!helper) return;
    helper.killed = true;
    try {
      helper.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

function unrefStream(stream: unknown): void {
  const unref = (stream as { unref?: unknown } | null)?.unref;
  if (typeof unref === 'function') unref.call(stream);
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

function exitText(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `signal ${signal}` : `exit code ${code}`;
}

function lastLine(text: string): string {
  return text.split('\n').at(-1)?.trim().slice(0, 500) ?? '';
}
