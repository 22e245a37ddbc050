/**
 * The standalone adapter in record and predict mode, with the real ONNX engine, in an untrusted
 * workspace, and as it ends: bad launches get clear errors, and stopping leaves no process behind.
 */
import { afterEach, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import { adapterProcess, collectOutput, launch, replayServer, startAdapter, step, stopClient, topFrame } from '../helpers/dap';
import { defaultPython, PROGRAMS, tempDir } from '../helpers/env';
import { TINY } from '../helpers/models';
import { isAlive, waitFor } from '../helpers/trace';

const SQUARES = path.join(PROGRAMS, 'squares.py');
const RAISES = path.join(PROGRAMS, 'raises.py');
const SIDE_EFFECT = path.join(PROGRAMS, 'side_effect.py');
const FOREVER = path.join(PROGRAMS, 'forever.py');
const LONG_LOOP = path.join(PROGRAMS, 'long_loop.py');

describe('adapter, record mode (real execution only, no model)', () => {
  let client: DebugClient;
  afterEach(async () => {
    await stopClient(client);
  });

  it('replays the recording: step in, over, out and back, with only the actual scope', async () => {
    client = await startAdapter();
    const output = collectOutput(client);
    const first = await launch(client, { program: SQUARES, mode: 'record' });
    assert.equal(first.body.reason, 'entry');
    assert.match(first.body.description ?? '', /^step 1 of 2\d \(real run\)$/);
    assert.match(output.text('console'), /Real run \(Python 3\.\d+\.\d+\): 2\d steps recorded; /);
    let frame = await topFrame(client);
    assert.deepEqual(Object.keys(frame.scopes), ['Locals (actual)']);
    await step(client, 'stepIn'); // line 14
    await step(client, 'stepIn'); // call total_of_squares
    for (let i = 0; i < 3; i++) await step(client, 'next');
    frame = await topFrame(client);
    assert.equal(frame.line, 8);
    await step(client, 'next'); // over square(1), to line 9
    frame = await topFrame(client);
    assert.equal(frame.line, 9);
    assert.equal(frame.scopes['Locals (actual)'].total, '1');
    await step(client, 'stepOut'); // out of total_of_squares: back in main after its return
    frame = await topFrame(client);
    assert.equal(frame.name, 'main');
    assert.equal(output.text('stdout'), 'running total 1\nrunning total 5\nrunning total 14\n');
    const back = await step(client, 'stepBack');
    assert.match(back.body.description ?? '', /^step \d+ of 2\d \(real run\)$/);
    assert.equal((await topFrame(client)).name, 'total_of_squares');
  });

  it('continues and reverse-continues between breakpoints, and jumps forward with goto', async () => {
    client = await startAdapter();
    await launch(client, { program: SQUARES, mode: 'record' }, { breakpoints: { [SQUARES]: [{ line: 9, condition: 'x >= 2' }] } });
    await step(client, 'continue');
    assert.equal((await topFrame(client)).scopes['Locals (actual)'].x, '2');
    await step(client, 'continue');
    assert.equal((await topFrame(client)).scopes['Locals (actual)'].x, '3');
    const back = await step(client, 'reverseContinue');
    assert.equal(back.body.reason, 'breakpoint');
    assert.equal((await topFrame(client)).scopes['Locals (actual)'].x, '2');
    // A recording can be entered anywhere, later steps included.
    const targets = await client.gotoTargetsRequest({ source: { path: SQUARES }, line: 10 });
    assert.deepEqual(targets.body.targets.map((t) => t.label), ['step 24', 'step 25 (return)']);
    await step(client, 'goto', { threadId: 1, targetId: targets.body.targets[0].id });
    assert.equal((await topFrame(client)).line, 10);
    const end = await step(client, 'continue');
    assert.match(end.body.description ?? '', /the end of the recording|returned/);
  });

  it('stops at a real exception with exceptionInfo', async () => {
    client = await startAdapter();
    await launch(client, { program: RAISES, mode: 'record' });
    const stop = await step(client, 'continue');
    assert.equal(stop.body.reason, 'exception');
    const info = await client.exceptionInfoRequest({ threadId: 1 });
    assert.equal(info.body.exceptionId, 'ValueError');
    assert.match(info.body.description ?? '', /^real run: ValueError\("invalid literal/);
  });

  it('a breakpoint in another file or past the end is not verified, with the reason', async () => {
    client = await startAdapter();
    const initialized = client.waitForEvent('initialized');
    const launched = client.launch({ program: SQUARES, mode: 'record' });
    await initialized;
    const other = await client.setBreakpointsRequest({ source: { path: RAISES }, breakpoints: [{ line: 2 }] });
    const mine = await client.setBreakpointsRequest({ source: { path: SQUARES }, breakpoints: [{ line: 9 }, { line: 99 }, { line: 8, hitCondition: 'often' }] });
    await client.configurationDoneRequest();
    await launched;
    assert.equal(other.body.breakpoints[0].verified, true); // not known to be wrong until launch binds them
    assert.deepEqual(mine.body.breakpoints.map((b) => b.verified), [true, true, false]);
    assert.match(mine.body.breakpoints[2].message ?? '', /hit condition/i);
  });
});

describe('adapter, the real ONNX engine (fixture model)', () => {
  let client: DebugClient;
  afterEach(async () => {
    await stopClient(client);
  });

  it('compare mode runs the real engine; whatever the random model writes, the session stays usable', async () => {
    client = await startAdapter();
    const output = collectOutput(client);
    const first = await launch(client, { program: SQUARES, mode: 'compare', model: TINY, maxTokensPerFrame: 48, device: 'cpu' });
    assert.equal(first.body.reason, 'entry');
    assert.match(output.text('console'), /Model: tiny-cwm .*\(onnx on cpu\)/);
    for (const command of ['stepIn', 'next', 'stepBack', 'stepOut']) {
      const stop = await step(client, command);
      assert.match(stop.body.description ?? '', /^step \d+/);
      const stack = await client.stackTraceRequest({ threadId: 1 });
      assert.ok(stack.body.stackFrames.length >= 1);
      const scopes = await client.scopesRequest({ frameId: stack.body.stackFrames[0].id });
      assert.deepEqual(scopes.body.scopes.map((s) => s.name).filter((n) => n.startsWith('Locals')), ['Locals (predicted)', 'Locals (actual)']);
    }
    await client.disconnectRequest({ terminateDebuggee: true });
  });

  it('predict mode never runs the program, even when it is trusted', async () => {
    const dir = tempDir('predict-only-');
    const marker = path.join(dir, 'ran.txt');
    client = await startAdapter({ env: { NEURAL_DEBUG_MARKER: marker } });
    await launch(client, { program: SIDE_EFFECT, mode: 'predict', model: TINY, maxTokensPerFrame: 32 });
    await step(client, 'stepIn');
    const frame = await topFrame(client);
    assert.deepEqual(Object.keys(frame.scopes).filter((n) => n.startsWith('Locals')), ['Locals (predicted)']);
    await client.disconnectRequest({});
    assert.equal(fs.existsSync(marker), false);
  });
});

describe('adapter, untrusted workspace', () => {
  let client: DebugClient;
  afterEach(async () => {
    await stopClient(client);
  });

  it('asked for compare, it predicts only, says why, and never executes the program', async () => {
    const dir = tempDir('untrusted-');
    const marker = path.join(dir, 'ran.txt');
    client = await startAdapter({ untrusted: true, env: { NEURAL_DEBUG_MARKER: marker } });
    const output = collectOutput(client);
    // No "python": an untrusted launch may not name the interpreter (the next test).
    await launch(client, { program: SIDE_EFFECT, mode: 'compare', model: TINY, maxTokensPerFrame: 32, python: undefined });
    assert.match(output.text('important'), /untrusted, so nothing of your code runs/);
    await step(client, 'next');
    await step(client, 'continue');
    const frame = await topFrame(client);
    assert.equal(frame.scopes['Locals (actual)'], undefined);
    await client.disconnectRequest({});
    assert.equal(fs.existsSync(marker), false);
  });

  it('refuses a launch whose "python" would choose the interpreter, and runs nothing', async () => {
    const dir = tempDir('untrusted-python-');
    const marker = path.join(dir, 'ran.txt');
    const script = path.join(dir, 'python.sh');
    fs.writeFileSync(script, `#!/bin/sh\necho "$@" > ${JSON.stringify(marker)}\nexit 1\n`, { mode: 0o755 });
    client = await startAdapter({ untrusted: true });
    await assert.rejects(client.launch({ program: SIDE_EFFECT, mode: 'predict', args: '3', python: script, model: TINY }), /"python" chooses a program to run, and this workspace is untrusted/);
    assert.equal(fs.existsSync(marker), false, 'the launch ran the "python" it named');
  });

  it('refuses record mode with a clear message', async () => {
    client = await startAdapter({ untrusted: true });
    await assert.rejects(client.launch({ program: SIDE_EFFECT, mode: 'record' }), /record mode runs your program, and this workspace is untrusted/);
  });
});

describe('adapter, bad launches and stopping', () => {
  let client: DebugClient;
  afterEach(async () => {
    await stopClient(client);
  });

  it('clear errors for a missing program, a bad mode, a bad entry and a dead server', async () => {
    client = await startAdapter();
    await assert.rejects(client.launch({ program: path.join(PROGRAMS, 'nope.py') }), /cannot read the program .*nope\.py: no such file/);
    await stopClient(client);
    client = await startAdapter();
    await assert.rejects(client.launch({ program: SQUARES, mode: 'dream' }), /"mode" must be one of "compare", "predict", "record"/);
    await stopClient(client);
    client = await startAdapter();
    await assert.rejects(client.launch({ program: SQUARES, entry: 'nothing_here' }), /nothing_here/);
    await stopClient(client);
    client = await startAdapter();
    await assert.rejects(client.launch({ program: SQUARES, mode: 'predict', endpoint: 'http://127.0.0.1:9' }), /127\.0\.0\.1:9/);
  });

  it('disconnecting while the program runs kills it, and the adapter ends', async () => {
    const dir = tempDir('forever-');
    const pidFile = path.join(dir, 'pid');
    client = await startAdapter({ env: { NEURAL_DEBUG_PIDFILE: pidFile } });
    void client.configurationSequence();
    const launched = client.launch({ program: FOREVER, mode: 'record', timeoutSeconds: 600 }).catch((error: Error) => error);
    assert.ok(await waitFor(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8') !== '', 20_000), 'the program started');
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    assert.ok(isAlive(pid));
    const adapter = adapterProcess(client)?.pid ?? -1;
    await client.disconnectRequest({ terminateDebuggee: true });
    assert.ok(await waitFor(() => !isAlive(pid), 5000), 'the program was killed');
    assert.ok(await waitFor(() => !isAlive(adapter), 5000), 'the adapter process ended');
    await launched;
  });

  it('a compare session on the ONNX engine leaves no process behind after terminate', async () => {
    client = await startAdapter();
    await launch(client, { program: SQUARES, mode: 'compare', model: TINY, maxTokensPerFrame: 32 });
    const adapter = adapterProcess(client)?.pid ?? -1;
    const terminated = client.waitForEvent('terminated');
    await client.terminateRequest({});
    await terminated;
    await client.disconnectRequest({});
    assert.ok(await waitFor(() => !isAlive(adapter), 5000), 'the adapter (and its inference worker thread) ended');
  });
});

describe('adapter, long work: progress and pause', () => {
  let client: DebugClient;
  afterEach(async () => {
    await stopClient(client);
  });

  it('reports progress to a client that asks for it: the real run and the model loading', async () => {
    client = await startAdapter();
    const titles: string[] = [];
    client.on('progressStart', (event: { body: { title: string } }) => titles.push(event.body.title));
    const initialized = client.waitForEvent('initialized');
    await client.initializeRequest({ adapterID: 'cwm', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path', supportsProgressReporting: true });
    await initialized;
    const stopped = client.waitForEvent('stopped', 60_000);
    await Promise.all([client.configurationDoneRequest(), client.launchRequest({ program: SQUARES, mode: 'compare', model: TINY, maxTokensPerFrame: 32, python: defaultPython() } as never)]);
    await stopped;
    assert.ok(titles.includes('Running main under the tracer'), titles.join(', '));
    assert.ok(titles.includes('Loading the model'), titles.join(', '));
  });

  it('pause stops a long continue where it is, and the session goes on', async () => {
    const model = await replayServer(LONG_LOOP, undefined, { entry: 'loop', args: '3000, "/dev/null"' });
    try {
      client = await startAdapter();
      await launch(client, { program: LONG_LOOP, entry: 'loop', args: '3000, "/dev/null"', mode: 'compare', endpoint: model.server.url, maxFramesPerCommand: 100000 });
      const paused = client.waitForEvent('stopped', 60_000) as Promise<{ body: { reason: string; description?: string } }>;
      await client.continueRequest({ threadId: 1 });
      await new Promise((resolve) => setTimeout(resolve, 500));
      await client.pauseRequest({ threadId: 1 });
      const stop = await paused;
      assert.equal(stop.body.reason, 'pause');
      assert.match(stop.body.description ?? '', /^step \d+ .*\(paused\)$/);
      const next = await step(client, 'stepIn');
      assert.equal(next.body.reason, 'step');
      assert.equal((await topFrame(client)).name, 'loop');
    } finally {
      await model.close();
    }
  });
});
