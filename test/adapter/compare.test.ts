/**
 * The standalone adapter in compare mode, driven over DAP: the real run under the tracer next to a
 * model served on 127.0.0.1 that knows the real trace and makes one deliberate mistake (total is
 * predicted 2 where it really is 1), so every capability can be checked against known answers.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { lookupLocal, RecordedFrame, TraceFrame } from '../../src/trace/frame';
import { collectOutput, launch, replayServer, ReplayServer, startAdapter, step, stopClient, topFrame } from '../helpers/dap';
import { PROGRAMS } from '../helpers/env';

const SQUARES = path.join(PROGRAMS, 'squares.py');
const RAISES = path.join(PROGRAMS, 'raises.py');
const PREDICTED = 'Locals (predicted)';
const ACTUAL = 'Locals (actual)';

/** The model's one mistake: on line 9 with x = 1, where total is really 1, it writes 2. */
function totalOffByOne(_index: number, frame: RecordedFrame): TraceFrame | undefined {
  if (frame.event !== 'line' || !frame.source.includes('print') || lookupLocal(frame.locals, 'x') !== '1') return undefined;
  return { event: 'line', source: frame.source, locals: frame.locals.map(([name, repr]) => [name, name === 'total' ? '2' : repr] as const) };
}

describe('adapter, compare mode (real run + served model)', () => {
  let model: ReplayServer;
  let client: DebugClient;

  before(async () => {
    model = await replayServer(SQUARES, totalOffByOne);
  });
  after(async () => {
    await model.close();
  });
  afterEach(async () => {
    await stopClient(client);
  });

  const start = async (setup: Parameters<typeof launch>[2] = {}, extra: Record<string, unknown> = {}): Promise<DebugProtocol.StoppedEvent> => {
    client = await startAdapter();
    return launch(client, { program: SQUARES, mode: 'compare', endpoint: model.server.url, ...extra }, setup);
  };

  it('stops on the entry call, with the predicted stack at real lines and both scopes', async () => {
    const stop = await start();
    assert.equal(stop.body.reason, 'entry');
    assert.match(stop.body.description ?? '', /^step 1 — the prediction matches the real run so far/);
    const threads = await client.threadsRequest();
    assert.deepEqual(threads.body.threads.map((t) => t.id), [1]);
    const frame = await topFrame(client);
    assert.equal(frame.name, 'main');
    assert.equal(frame.line, 13);
    assert.deepEqual(Object.keys(frame.scopes), [PREDICTED, ACTUAL]);
  });

  it('steps in and over with CWM semantics, both worlds agreeing until the mistake', async () => {
    await start();
    let stop = await step(client, 'stepIn'); // into main's body
    assert.equal((await topFrame(client)).line, 14);
    stop = await step(client, 'stepIn'); // the call of total_of_squares
    let frame = await topFrame(client);
    assert.equal(frame.name, 'total_of_squares');
    assert.equal(frame.scopes[PREDICTED].xs, '[1, 2, 3]');
    assert.equal(frame.scopes[ACTUAL].xs, '[1, 2, 3]');
    const stack = await client.stackTraceRequest({ threadId: 1 });
    assert.deepEqual(stack.body.stackFrames.map((f) => [f.name, f.line]), [['total_of_squares', 5], ['main', 14]]);
    for (let i = 0; i < 3; i++) stop = await step(client, 'next'); // total = 0, for, total += square(x)
    frame = await topFrame(client);
    assert.equal(frame.line, 8);
    assert.match(stop.body.description ?? '', /^step 6 — the prediction matches the real run so far/);
    // square(1) stepped over (its return forced), landing on line 9, where the model makes its mistake.
    stop = await step(client, 'next');
    assert.equal(stop.body.reason, 'step');
    assert.equal(stop.body.description, 'step 9 — prediction diverged at step 9: total predicted 2, actual 1');
  });

  it('continues to a line breakpoint, shows the divergence everywhere, and steps back', async () => {
    const stdout = collectOutput(client = await startAdapter());
    const first = await launch(client, { program: SQUARES, mode: 'compare', endpoint: model.server.url }, { breakpoints: { [SQUARES]: [{ line: 9 }] } });
    assert.equal(first.body.reason, 'entry');
    const stop = await step(client, 'continue');
    assert.equal(stop.body.reason, 'breakpoint');
    assert.equal(stop.body.description, 'step 10 — prediction diverged at step 10: total predicted 2, actual 1');
    const frame = await topFrame(client);
    assert.equal(frame.line, 9);
    assert.equal(frame.scopes[PREDICTED].total, '2  ≠ actual 1');
    assert.equal(frame.scopes[ACTUAL].total, '1  ≠ predicted 2');
    assert.equal(frame.scopes[PREDICTED].x, '1');
    assert.match(stdout.text('console'), /≠ step 10, line 9: total predicted 2, actual 1/);
    // The real program's output arrives as the real side passes the line that printed it.
    assert.equal(stdout.text('stdout'), '');
    const back = await step(client, 'stepBack');
    assert.match(back.body.description ?? '', /^step 9 — the prediction matches the real run so far/);
    const again = await step(client, 'next');
    assert.match(again.body.description ?? '', /^step 10 — prediction diverged at step 10/);
    await step(client, 'next');
    assert.match(stdout.text('stdout'), /^running total 1\n/);
  });

  it('evaluates conditions in both worlds: a condition true only in the prediction stops and says so', async () => {
    client = await startAdapter();
    await launch(client, { program: SQUARES, mode: 'compare', endpoint: model.server.url }, { breakpoints: { [SQUARES]: [{ line: 9, condition: 'total == 2' }] } });
    const stop = await step(client, 'continue');
    assert.equal(stop.body.reason, 'breakpoint');
    assert.match(stop.body.description ?? '', /^step 10 .*`total == 2` holds in the prediction only/);
  });

  it('honours hit counts, log messages and function breakpoints', async () => {
    client = await startAdapter();
    const output = collectOutput(client);
    await launch(client, { program: SQUARES, mode: 'compare', endpoint: model.server.url }, {
      breakpoints: { [SQUARES]: [{ line: 8, hitCondition: '3' }, { line: 9, logMessage: 'x is {x}, total {total}' }] },
      functionBreakpoints: ['square'],
    });
    // square is called at x = 1 first: the function breakpoint stops at its call.
    let stop = await step(client, 'continue');
    assert.equal(stop.body.reason, 'function breakpoint');
    let frame = await topFrame(client);
    assert.equal(frame.name, 'square');
    assert.equal(frame.scopes[PREDICTED].n, '1');
    stop = await step(client, 'continue');
    assert.equal(stop.body.reason, 'function breakpoint');
    assert.equal((await topFrame(client)).scopes[ACTUAL].n, '2');
    stop = await step(client, 'continue');
    // The third pass over line 8 (x = 3) comes before the third call of square.
    assert.equal(stop.body.reason, 'breakpoint');
    frame = await topFrame(client);
    assert.equal(frame.line, 8);
    assert.equal(frame.scopes[ACTUAL].x, '3');
    const console = output.text('console');
    assert.match(console, /x is 1, total 2 {2}\(predicted\)\nx is 1, total 1 {2}\(actual\)/);
    assert.match(console, /x is 2, total 5\n/);
  });

  it('what-if: setVariable rewrites the predicted state, the real side stays as it was', async () => {
    client = await startAdapter();
    await launch(client, { program: SQUARES, mode: 'compare', endpoint: model.server.url }, { breakpoints: { [SQUARES]: [{ line: 9 }] } });
    await step(client, 'continue');
    const scopes = await client.scopesRequest({ frameId: 1 });
    const predicted = scopes.body.scopes.find((s) => s.name === PREDICTED);
    const actual = scopes.body.scopes.find((s) => s.name === ACTUAL);
    assert.ok(predicted && actual);
    const set = await client.setVariableRequest({ variablesReference: predicted.variablesReference, name: 'total', value: 'total * 50' });
    assert.equal(set.body.value, '100');
    let frame = await topFrame(client);
    assert.equal(frame.scopes[PREDICTED].total, '100  ≠ actual 1');
    await assert.rejects(client.setVariableRequest({ variablesReference: actual.variablesReference, name: 'total', value: '5' }), /only predicted locals can be changed/);
    const stop = await step(client, 'next');
    frame = await topFrame(client);
    assert.equal(frame.line, 7);
    assert.equal(frame.scopes[PREDICTED].total, '100  ≠ actual 1');
    assert.match(stop.body.description ?? '', /diverged at step 10/);
    await assert.rejects(client.setVariableRequest({ variablesReference: 999, name: 'x', value: '(' }));
  });

  it('evaluates watch expressions in both worlds', async () => {
    client = await startAdapter();
    await launch(client, { program: SQUARES, mode: 'compare', endpoint: model.server.url }, { breakpoints: { [SQUARES]: [{ line: 9 }] } });
    await step(client, 'continue');
    const same = await client.evaluateRequest({ expression: 'x + 1', frameId: 1, context: 'watch' });
    assert.equal(same.body.result, '2');
    const differs = await client.evaluateRequest({ expression: 'total * 10', frameId: 1, context: 'watch' });
    assert.equal(differs.body.result, '20 (predicted)  ≠  10 (actual)');
    await assert.rejects(client.evaluateRequest({ expression: '__import__("os")', frameId: 1, context: 'repl' }), /not allowed/);
  });

  it('jumps back to any earlier step on a line (goto targets), and reverse-continues to breakpoints', async () => {
    client = await startAdapter();
    await launch(client, { program: SQUARES, mode: 'compare', endpoint: model.server.url }, { breakpoints: { [SQUARES]: [{ line: 9 }] } });
    await step(client, 'continue');
    await step(client, 'continue'); // line 9 with x = 2
    const targets = await client.gotoTargetsRequest({ source: { path: SQUARES }, line: 8 });
    assert.deepEqual(targets.body.targets.map((t) => t.label), ['step 6', 'step 12']);
    let stop = await step(client, 'goto', { threadId: 1, targetId: targets.body.targets[0].id });
    assert.equal(stop.body.reason, 'goto');
    assert.match(stop.body.description ?? '', /^step 6 /);
    assert.equal((await topFrame(client)).scopes[PREDICTED].x, '1');
    await step(client, 'continue');
    await step(client, 'continue');
    stop = await step(client, 'reverseContinue');
    assert.equal(stop.body.reason, 'breakpoint');
    assert.match(stop.body.description ?? '', /^step 10 /);
    stop = await step(client, 'reverseContinue');
    assert.match(stop.body.description ?? '', /^step 1 .*first step/);
  });

  it('restart resamples the prediction from the entry', async () => {
    client = await startAdapter();
    const output = collectOutput(client);
    await launch(client, { program: SQUARES, mode: 'compare', endpoint: model.server.url });
    await step(client, 'stepIn');
    await step(client, 'stepIn');
    const stop = await step(client, 'restart', {});
    assert.equal(stop.body.reason, 'entry');
    assert.match(stop.body.description ?? '', /^step 1 /);
    assert.match(output.text('console'), /Resampling the prediction at temperature 0\.8/);
  });

  it('runs to the end of the prediction and passes on all the real output', async () => {
    client = await startAdapter();
    const output = collectOutput(client);
    await launch(client, { program: SQUARES, mode: 'compare', endpoint: model.server.url });
    const stop = await step(client, 'continue');
    assert.match(stop.body.description ?? '', /the model ended the trace/);
    assert.equal(output.text('stdout'), 'running total 1\nrunning total 5\nrunning total 14\n');
    const frame = await topFrame(client);
    assert.deepEqual(Object.keys(frame.scopes), [PREDICTED, 'Return value (predicted)', ACTUAL, 'Return value (actual)']);
    assert.equal(frame.scopes['Return value (predicted)']['(return value)'], '14');
  });
});

describe('adapter, exceptions in both worlds', () => {
  let model: ReplayServer;
  let client: DebugClient;
  before(async () => {
    model = await replayServer(RAISES);
  });
  after(async () => {
    await model.close();
  });
  afterEach(async () => {
    await stopClient(client);
  });

  it('continue stops at the exception and exceptionInfo tells both sides', async () => {
    client = await startAdapter();
    await launch(client, { program: RAISES, mode: 'compare', endpoint: model.server.url });
    const stop = await step(client, 'continue');
    assert.equal(stop.body.reason, 'exception');
    const info = await client.exceptionInfoRequest({ threadId: 1 });
    assert.equal(info.body.exceptionId, 'ValueError');
    assert.match(info.body.description ?? '', /^predicted: ValueError\(.*\nreal run: ValueError\(/);
    assert.equal((await topFrame(client)).line, 2);
  });

  it('with the exception filters off, continue runs on to the end', async () => {
    client = await startAdapter();
    await launch(client, { program: RAISES, mode: 'compare', endpoint: model.server.url }, { exceptionFilters: [] });
    const stop = await step(client, 'continue');
    assert.notEqual(stop.body.reason, 'exception');
    assert.match(stop.body.description ?? '', /the model ended the trace/);
  });
});
