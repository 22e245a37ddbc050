/**
 * Driving the standalone `cwm` adapter (dist/adapter.js) with the DAP test client, as an editor would:
 * a fresh adapter process per test, breakpoints set between `initialized` and `configurationDone`.
 */
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { startServer, RunningServer } from '../../src/model/serve';
import { RecordedFrame, TraceFrame } from '../../src/trace/frame';
import type { TraceTarget } from '../../src/trace/prompt';
import { REPO_ROOT, defaultPython } from './env';
import { testTokenizer } from './fake-backend';
import { recordProgram, replayBackend } from './replay-model';

export const ADAPTER = path.join(REPO_ROOT, 'dist', 'adapter.js');

export interface AdapterOptions {
  readonly untrusted?: boolean;
  readonly env?: Record<string, string>;
}

export async function startAdapter(options: AdapterOptions = {}): Promise<DebugClient> {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), ...options.env };
  if (options.untrusted) env.NEURAL_DEBUG_UNTRUSTED = '1';
  else delete env.NEURAL_DEBUG_UNTRUSTED;
  const client = new DebugClient('node', ADAPTER, 'cwm', { env }, process.env.NEURAL_DEBUG_TEST_STDERR === '1');
  client.defaultTimeout = 20_000;
  await client.start();
  // A test may write to an adapter that has just exited (it ends itself on disconnect).
  adapterProcess(client)?.stdin?.on('error', () => undefined);
  return client;
}

/** Ends a test's client; an adapter that already exited (as it does after disconnect) is left alone. */
export async function stopClient(client: DebugClient | undefined): Promise<void> {
  if (!client) return;
  const adapter = adapterProcess(client);
  if (!adapter || adapter.exitCode !== null || adapter.signalCode !== null) return;
  // An adapter that is on its way out never answers the client's disconnect: its exit ends the wait.
  const exited = new Promise<void>((resolve) => adapter.once('exit', () => resolve()));
  await Promise.race([client.stop(), exited]);
}

/** The adapter's process: the test client keeps it private, and tests check that it ends. */
export function adapterProcess(client: DebugClient): ChildProcess | undefined {
  return (client as unknown as { _adapterProcess?: ChildProcess })._adapterProcess;
}

export interface LaunchSetup {
  readonly breakpoints?: Record<string, readonly DebugProtocol.SourceBreakpoint[]>;
  readonly functionBreakpoints?: readonly string[];
  readonly exceptionFilters?: readonly string[];
}

/** Launches and waits for the first stop (or the launch's error); `python: undefined` in `args` leaves the interpreter to the adapter. */
export async function launch(client: DebugClient, args: Record<string, unknown>, setup: LaunchSetup = {}): Promise<DebugProtocol.StoppedEvent> {
  const configured = client.waitForEvent('initialized').then(async () => {
    for (const [file, breakpoints] of Object.entries(setup.breakpoints ?? {})) {
      await client.setBreakpointsRequest({ source: { path: file }, breakpoints: [...breakpoints] });
    }
    if (setup.functionBreakpoints) await client.setFunctionBreakpointsRequest({ breakpoints: setup.functionBreakpoints.map((name) => ({ name })) });
    if (setup.exceptionFilters) await client.setExceptionBreakpointsRequest({ filters: [...setup.exceptionFilters] });
    await client.configurationDoneRequest();
  });
  const stopped = client.waitForEvent('stopped', 60_000) as Promise<DebugProtocol.StoppedEvent>;
  await Promise.all([configured, client.launch({ python: defaultPython(), ...args })]);
  return stopped;
}

/** Sends a stepping request and returns the stop it leads to. */
export async function step(client: DebugClient, command: string, args: Record<string, unknown> = { threadId: 1 }): Promise<DebugProtocol.StoppedEvent> {
  const stopped = client.waitForEvent('stopped', 60_000) as Promise<DebugProtocol.StoppedEvent>;
  await client.send(command, args);
  return stopped;
}

export interface FrameView {
  readonly name: string;
  readonly line: number;
  readonly scopes: Record<string, Record<string, string>>;
}

/** The top frame as the editor shows it: each scope's variables by name (names without marks). */
export async function topFrame(client: DebugClient): Promise<FrameView> {
  const stack = await client.stackTraceRequest({ threadId: 1 });
  const frame = stack.body.stackFrames[0];
  const scopes = await client.scopesRequest({ frameId: frame.id });
  const out: Record<string, Record<string, string>> = {};
  for (const scope of scopes.body.scopes) {
    const variables = await client.variablesRequest({ variablesReference: scope.variablesReference });
    out[scope.name] = Object.fromEntries(variables.body.variables.map((v) => [v.name, v.value]));
  }
  return { name: frame.name, line: frame.line, scopes: out };
}

/** Everything the adapter printed in one output category, so far. */
export function collectOutput(client: DebugClient): { text: (category?: string) => string } {
  const items: Array<{ category: string; output: string }> = [];
  client.on('output', (event: DebugProtocol.OutputEvent) => items.push({ category: event.body.category ?? 'console', output: event.body.output }));
  return { text: (category) => items.filter((i) => category === undefined || i.category === category).map((i) => i.output).join('') };
}

export interface ReplayServer {
  readonly server: RunningServer;
  readonly frames: readonly RecordedFrame[];
  close(): Promise<void>;
}

/**
 * A CWM stand-in on 127.0.0.1 that knows the real trace of `program` and writes it, except for the
 * frames `mistake` replaces: a model that is right until it is not.
 */
export async function replayServer(program: string, mistake?: (index: number, frame: RecordedFrame) => TraceFrame | undefined, target: TraceTarget = {}): Promise<ReplayServer> {
  const recorded = await recordProgram(program, target);
  const backend = replayBackend(testTokenizer(), recorded.trace.frames, mistake ? { mistake } : {});
  const server = await startServer({ backend });
  return { server, frames: recorded.trace.frames, close: () => server.close() };
}
