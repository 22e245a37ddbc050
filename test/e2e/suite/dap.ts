/**
 * Drives one `cwm` debug session from the extension host the way a user's clicks would, and records
 * everything the adapter says: every message it sends (through a debug adapter tracker), the custom
 * events VS Code forwards to extensions, and the session's start and end. Every wait is bounded and
 * says what it waited for when it gives up.
 */
import * as vscode from 'vscode';
import { log, waitUntil, withTimeout } from './harness';

export const WAIT_MS = 20_000;

/** The DAP messages used here, loosely typed (the suite checks the contract, not the adapter's types). */
export interface DapMessage {
  readonly seq: number;
  readonly type: 'request' | 'response' | 'event';
  readonly event?: string;
  readonly command?: string;
  readonly success?: boolean;
  readonly message?: string;
  readonly body?: any;
}

export interface StoppedBody {
  readonly reason: string;
  readonly description?: string;
  readonly text?: string;
  readonly threadId?: number;
}

export interface StackFrame {
  readonly id: number;
  readonly name: string;
  readonly line: number;
  readonly column: number;
  readonly source?: { readonly path?: string; readonly name?: string };
}

export interface Scope {
  readonly name: string;
  readonly variablesReference: number;
  readonly presentationHint?: string;
}

export interface Variable {
  readonly name: string;
  readonly value: string;
  readonly variablesReference: number;
}

export interface WorldsBody {
  readonly step: number;
  readonly predicted?: { readonly path: string; readonly line: number };
  readonly actual?: { readonly path: string; readonly line: number };
  readonly values: ReadonlyArray<{ readonly name: string; readonly line: number; readonly predicted?: string; readonly actual?: string }>;
}

export const WORLDS_EVENT = 'neuralDebugger/worlds';

/** Text that summarises a message for the log, without flooding it. */
function summary(message: DapMessage): string {
  const what = message.type === 'event' ? `event ${message.event}` : `${message.type} ${message.command}${message.success === false ? ' FAILED' : ''}`;
  const body = message.body === undefined ? '' : JSON.stringify(message.body);
  return `${what} ${body.length > 300 ? `${body.slice(0, 300)}…` : body}${message.message ? ` (${message.message})` : ''}`;
}

export class DebugDriver implements vscode.Disposable {
  /** Everything the adapter sent, in order. */
  readonly sent: DapMessage[] = [];
  /** Custom events as extensions see them (vscode.debug.onDidReceiveDebugSessionCustomEvent). */
  readonly customEvents: Array<{ event: string; body: unknown }> = [];
  session: vscode.DebugSession | undefined;
  terminated = false;
  adapterError: string | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly verbose = true) {}

  /**
   * Starts recording: the next `cwm` session VS Code starts is this driver's. Called by start(); call
   * it yourself before starting a session some other way.
   */
  listen(): void {
    if (this.disposables.length > 0) return;
    this.disposables.push(
      vscode.debug.registerDebugAdapterTrackerFactory('cwm', {
        createDebugAdapterTracker: (session) => {
          this.session ??= session;
          return {
          onDidSendMessage: (message: DapMessage) => {
            if (this.session && session.id !== this.session.id) return;
            this.sent.push(message);
            // Requests VS Code makes on its own (stackTrace, scopes, …) are noise; events are the story.
            if (this.verbose && message.type === 'event') log(`  ← ${summary(message)}`);
            if (message.type === 'response' && message.success === false) log(`  ← ${summary(message)}`);
          },
          onError: (error: Error) => {
            this.adapterError = error.message;
            log(`  adapter error: ${error.message}`);
          },
          onExit: (code: number | undefined, signal: string | undefined) => log(`  adapter exited (${code ?? ''}${signal ?? ''})`),
          };
        },
      }),
      vscode.debug.onDidStartDebugSession((session) => {
        if (session.type === 'cwm' && !this.session) this.session = session;
      }),
      vscode.debug.onDidReceiveDebugSessionCustomEvent((event) => {
        if (this.session && event.session.id === this.session.id) this.customEvents.push({ event: event.event, body: event.body });
      }),
      vscode.debug.onDidTerminateDebugSession((session) => {
        if (this.session && session.id === this.session.id) this.terminated = true;
      }),
    );
  }

  dispose(): void {
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
  }

  /** Starts a session (a launch.json name or a configuration) and waits for it to exist. */
  async start(folder: vscode.WorkspaceFolder | undefined, config: string | vscode.DebugConfiguration): Promise<vscode.DebugSession> {
    this.listen();
    const started = await withTimeout(Promise.resolve(vscode.debug.startDebugging(folder, config)), WAIT_MS, 'vscode.debug.startDebugging');
    if (!started) throw new Error(`vscode.debug.startDebugging refused ${JSON.stringify(config)}${this.adapterError ? `: ${this.adapterError}` : ''}`);
    return waitUntil(() => this.session, WAIT_MS, 'the cwm debug session to start');
  }

  get mark(): number {
    return this.sent.length;
  }

  /** The first event named `event` sent after position `from` of `sent`. */
  async waitForEvent(event: string, from: number, ms = WAIT_MS): Promise<DapMessage> {
    return waitUntil(() => {
      if (this.terminated && event !== 'terminated') throw new Error(`the session ended while waiting for a "${event}" event${this.lastOutput()}`);
      return this.sent.slice(from).find((message) => message.type === 'event' && message.event === event);
    }, ms, `a "${event}" event from the adapter${this.lastOutput()}`);
  }

  async waitForStop(from: number, ms = WAIT_MS): Promise<StoppedBody> {
    return (await this.waitForEvent('stopped', from, ms)).body as StoppedBody;
  }

  /** The last output the adapter sent, for failure messages. */
  private lastOutput(): string {
    const output = this.outputText().trim();
    return output ? ` (adapter output so far: ${output.slice(-400)})` : '';
  }

  outputText(): string {
    return this.sent.filter((message) => message.type === 'event' && message.event === 'output').map((message) => String(message.body?.output ?? '')).join('');
  }

  async request<T = any>(command: string, args?: unknown): Promise<T> {
    const session = this.session;
    if (!session) throw new Error(`no session to send "${command}" to`);
    try {
      return (await withTimeout(Promise.resolve(session.customRequest(command, args)), WAIT_MS, `the "${command}" request`)) as T;
    } catch (error) {
      throw new Error(`"${command}" ${JSON.stringify(args ?? {})} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Sends a stepping request and waits for the stop it causes. */
  async step(command: 'next' | 'stepIn' | 'stepOut' | 'stepBack' | 'continue' | 'reverseContinue', args: object = { threadId: 1 }): Promise<StoppedBody> {
    const from = this.mark;
    await this.request(command, args);
    const stop = await this.waitForStop(from);
    log(`  ${command} → stopped (${stop.reason}): ${stop.description ?? ''}`);
    return stop;
  }

  async stackTrace(): Promise<StackFrame[]> {
    const body = await this.request<{ stackFrames: StackFrame[] }>('stackTrace', { threadId: 1, startFrame: 0, levels: 20 });
    return body.stackFrames;
  }

  async scopes(frameId: number): Promise<Scope[]> {
    return (await this.request<{ scopes: Scope[] }>('scopes', { frameId })).scopes;
  }

  async variables(variablesReference: number): Promise<Variable[]> {
    return (await this.request<{ variables: Variable[] }>('variables', { variablesReference })).variables;
  }

  /**
   * The top frame's scopes: scope name → variable name → value text (ANSI colour removed, and a mark
   * the adapter may add to a differing variable's name ignored, so values can be looked up by the
   * Python name), and the variables exactly as sent (`raw`).
   */
  async topScopes(): Promise<{ frame: StackFrame; scopes: Scope[]; values: Map<string, Map<string, string>>; raw: Map<string, Variable[]> }> {
    const [frame] = await this.stackTrace();
    if (!frame) throw new Error('the stack trace is empty');
    const scopes = await this.scopes(frame.id);
    const values = new Map<string, Map<string, string>>();
    const raw = new Map<string, Variable[]>();
    for (const scope of scopes) {
      const variables = await this.variables(scope.variablesReference);
      raw.set(scope.name, variables);
      values.set(scope.name, new Map(variables.map((variable) => [pythonName(variable.name), plain(variable.value)])));
    }
    return { frame, scopes, values, raw };
  }

  /** The last `neuralDebugger/worlds` event sent after `from` (as the tracker saw it). */
  worldsAfter(from: number): WorldsBody | undefined {
    const events = this.sent.slice(from).filter((message) => message.type === 'event' && message.event === WORLDS_EVENT);
    return events.at(-1)?.body as WorldsBody | undefined;
  }

  /** Ends the session the way the stop button does, and waits until VS Code reports it ended. */
  async stop(): Promise<void> {
    if (!this.session || this.terminated) return;
    await withTimeout(Promise.resolve(vscode.debug.stopDebugging(this.session)), WAIT_MS, 'vscode.debug.stopDebugging');
    await waitUntil(() => this.terminated, WAIT_MS, 'VS Code to report the debug session ended (onDidTerminateDebugSession)');
  }
}

/** Text without ANSI colour sequences (the adapter may colour values for clients that support it). */
export function plain(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}

/** The repr part of a value text, without a `  ≠ other world …` note. */
export function reprOf(value: string | undefined): string | undefined {
  return value === undefined ? undefined : value.split('  ≠')[0].trimEnd();
}

/** A variable's Python name, should the adapter have added a `≠` mark to the displayed name. */
export function pythonName(name: string): string {
  return name.replace(/\s*≠\s*$/, '');
}

/**
 * A DAP source path as a file path. In a remote window (code-server) VS Code hands paths back to
 * extensions as URI strings (`vscode-remote://host:port/abs/path`); the adapter itself sent a path.
 */
export function fsPathOf(sourcePath: string | undefined): string {
  if (!sourcePath) return '';
  return /^[a-z][\w+.-]*:\/\//i.test(sourcePath) ? vscode.Uri.parse(sourcePath).fsPath : sourcePath;
}

/** "name → value" lines of a scope, for assertion messages. */
export function show(values: Map<string, string> | undefined): string {
  if (!values) return '(no such scope)';
  return [...values].map(([name, value]) => `${name} = ${value}`).join('; ') || '(empty)';
}
