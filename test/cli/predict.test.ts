/**
 * `neural-debug predict` and `neural-debug serve` as a user runs them: dist/cli.js in child
 * processes, on the fixture model in-process and through a real server on 127.0.0.1.
 */
import * as fs from 'node:fs';
import { strict as assert } from 'node:assert';
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { startServer } from '../../src/model/serve';
import { CLI, defaultPython, EXAMPLES } from '../helpers/env';
import { CliRun, runCli, runCliAsync } from '../helpers/cli';
import { testTokenizer } from '../helpers/fake-backend';
import { recordProgram, replayBackend } from '../helpers/replay-model';
import { TINY } from '../helpers/models';
import { isAlive } from '../helpers/trace';

const cli = runCli;
const cliAsync = (args: readonly string[]): Promise<CliRun> => runCliAsync(args);

const SUM_LIST = path.join(EXAMPLES, 'sum_list.py');
// Without the grammar: what the random weights write themselves (and what a server, unconstrained, writes too).
const FIXTURE_RUN = ['predict', SUM_LIST, '--entry', 'main', '--model', TINY, '--device', 'cpu', '--max-steps', '4', '--max-frame-tokens', '24', '--no-grammar'];

/** Starts `neural-debug serve` and resolves with its URL (the first line of its stdout). */
function serve(args: readonly string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { env: { ...process.env, NEURAL_DEBUG_SERVE_API_KEY: '' } });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n')) resolve({ child, url: line, stderr: () => stderr });
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.on('exit', (code) => resolve(code));
  });
}

describe('neural-debug predict', () => {
  it('streams predicted steps from an in-process model folder, one JSON object each', () => {
    const run = cli([...FIXTURE_RUN, '--format', 'json']);
    const records = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const end = records.at(-1) as Record<string, unknown>;
    assert.equal(end.type, 'end');
    const steps = records.slice(0, -1);
    assert.ok(steps.length >= 1, run.stderr);
    assert.deepEqual(steps.map((step) => step.step), steps.map((_, i) => i));
    // Every trace opens with the entry's call: the first event is forced, whatever the weights say.
    assert.equal(steps[0].event, 'call');
    assert.equal(steps[0].origin, 'steered');
    // Random weights write no valid frame: each step says what is wrong, and the run ends with a limit.
    assert.ok(steps.every((step) => Array.isArray(step.issues) && (step.issues as unknown[]).length > 0));
    assert.equal(run.status, 3);
    assert.match(run.stderr, /model tiny-cwm \(random weights, test fixture\) on cpu/);
  });

  it('holds an in-process model to the frame grammar: random weights write well-formed frames of the program', () => {
    const run = cli(['predict', SUM_LIST, '--entry', 'main', '--model', TINY, '--device', 'cpu', '--max-steps', '6', '--max-frame-tokens', '64', '--format', 'json']);
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    // A random model may spell a line byte by byte and run out of tokens: such a step is cut, not malformed.
    const steps = lines.filter((line) => line.type === 'frame' && line.truncated === undefined);
    assert.ok(steps.length >= 2, run.stdout);
    const source = fs.readFileSync(SUM_LIST, 'utf8').split('\n');
    for (const step of steps) {
      assert.deepEqual(step.issues ?? [], [], JSON.stringify(step));
      assert.ok(typeof step.source === 'string' && (source.includes(step.source) || step.source.startsWith('def main')), JSON.stringify(step));
    }
  });

  it('prints the model\'s text as it comes in cwm format, with the prompt first on request', () => {
    const run = cli([...FIXTURE_RUN, '--prompt']);
    const [prompt, firstStep] = run.stdout.split('\n');
    assert.ok(prompt.startsWith('<|begin_of_text|><|trace_context_start|>def sum_list(xs):⏎    total = 0⏎'), prompt);
    assert.ok(prompt.endsWith('def main():  # << START_OF_TRACE⏎    return sum_list([1, 2, 3])⏎<|frame_sep|>'), prompt);
    assert.ok(firstStep.startsWith('<|call_sep|>'), firstStep);
    assert.match(run.stderr, /predicted step 0: /);
    assert.equal(run.status, 3);
  });

  it('gives the same steps through neural-debug serve as in-process', async () => {
    const server = await serve(['--model', TINY, '--device', 'cpu', '--port', '0', '--quiet']);
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const local = cli([...FIXTURE_RUN, '--format', 'json']);
      const remoteArgs = FIXTURE_RUN.filter((arg, i) => !['--model', '--device'].includes(arg) && !['--model', '--device'].includes(FIXTURE_RUN[i - 1]));
      const remote = await cliAsync([...remoteArgs, '--endpoint', server.url, '--format', 'json']);
      assert.equal(remote.status, local.status, remote.stderr);
      assert.equal(remote.stdout, local.stdout);
      assert.match(remote.stderr, new RegExp(`on ${server.url.replace(/[.:/]/g, '\\$&')}`));
    } finally {
      server.child.kill('SIGINT');
      assert.equal(await exited(server.child), 0, server.stderr());
    }
    assert.ok(server.child.pid !== undefined && !isAlive(server.child.pid));
  });

  it('streams whole frames as a model writes them: a replay model over HTTP gives the real trace\'s text', async () => {
    // The replay model writes what a perfect CWM would (the real trace); it is served over real HTTP.
    const recorded = await recordProgram(SUM_LIST, { entry: 'main' });
    const server = await startServer({ backend: replayBackend(testTokenizer(), recorded.trace.frames) });
    try {
      const predicted = await cliAsync(['predict', SUM_LIST, '--entry', 'main', '--endpoint', server.url]);
      assert.equal(predicted.status, 0, predicted.stderr);
      const real = cli(['trace', SUM_LIST, '--entry', 'main', '--python', defaultPython()]);
      assert.equal(predicted.stdout, real.stdout);
      assert.match(predicted.stderr, new RegExp(`${recorded.trace.frames.length} predicted frames; the model ended the trace`));
      const json = await cliAsync(['predict', SUM_LIST, '--entry', 'main', '--endpoint', server.url, '--format', 'json']);
      const steps = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      assert.deepEqual(steps.at(-1), { type: 'end', reason: 'ended', steps: recorded.trace.frames.length });
      const realLines = recorded.trace.frames.map((frame) => frame.origin.line);
      assert.deepEqual(steps.slice(0, -1).map((step) => step.line), realLines, 'each predicted frame is placed on its real line');
    } finally {
      await server.close();
    }
  });

  it('teacher-forces a marked entry\'s arguments, bound without running the program', async () => {
    // sum_list.py defines main(), so an entry of sum_list is marked itself: its call frame is forced.
    const target = { entry: 'sum_list', args: '[4, 5]' };
    const recorded = await recordProgram(SUM_LIST, target);
    const server = await startServer({ backend: replayBackend(testTokenizer(), recorded.trace.frames) });
    try {
      const predicted = await cliAsync(['predict', SUM_LIST, '--entry', 'sum_list', '--args', '[4, 5]', '--endpoint', server.url, '--python', defaultPython(), '--format', 'json']);
      assert.equal(predicted.status, 0, predicted.stderr);
      const first = JSON.parse(predicted.stdout.split('\n')[0]) as Record<string, unknown>;
      assert.deepEqual([first.origin, first.event, first.locals], ['teacher-forced', 'call', { xs: '[4, 5]' }]);
      const steps = predicted.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      assert.deepEqual(steps.at(-1), { type: 'end', reason: 'ended', steps: recorded.trace.frames.length });
      const text = await cliAsync(['predict', SUM_LIST, '--entry', 'sum_list', '--args', '[4, 5]', '--endpoint', server.url, '--python', defaultPython()]);
      const real = cli(['trace', SUM_LIST, '--entry', 'sum_list', '--args', '[4, 5]', '--python', defaultPython()]);
      assert.equal(text.stdout, real.stdout);
      const refused = await cliAsync(['predict', SUM_LIST, '--entry', 'sum_list', '--args', 'list(range(3))', '--endpoint', server.url, '--python', defaultPython()]);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /argument 1 is not a Python literal \(list\(range\(3\)\)\)/);
    } finally {
      await server.close();
    }
  });

  it('explains a missing model, conflicting choices and bad values', () => {
    const missing = cli(['predict', SUM_LIST, '--model', path.join(TINY, 'nope')]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /model folder .*nope does not exist/);
    const both = cli(['predict', SUM_LIST, '--model', TINY, '--endpoint', 'http://127.0.0.1:9']);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /give --model or --endpoint, not both/);
    const device = cli(['predict', SUM_LIST, '--model', TINY, '--device', 'tpu']);
    assert.equal(device.status, 2);
    assert.match(device.stderr, /--device must be one of auto, cpu, cuda/);
    const dead = cli(['predict', SUM_LIST, '--entry', 'main', '--endpoint', 'http://127.0.0.1:9']);
    assert.equal(dead.status, 1);
    assert.match(dead.stderr, /127\.0\.0\.1:9/);
  });

  it('says plainly when CUDA cannot be used', () => {
    const run = cli([...FIXTURE_RUN.filter((arg) => arg !== 'cpu' && arg !== '--device'), '--device', 'cuda', '--max-steps', '1']);
    assert.match(run.stderr, /CUDA was requested but could not be used .*running on the CPU instead/);
    assert.match(run.stderr, /on cpu/);
  });
});

describe('neural-debug serve', () => {
  it('refuses to serve beyond this machine without a key', () => {
    const run = cli(['serve', '--model', TINY, '--host', '0.0.0.0'], { NEURAL_DEBUG_SERVE_API_KEY: '' });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /set \$NEURAL_DEBUG_SERVE_API_KEY to require a key, or pass --insecure/);
  });

  it('requires the key when one is set, and never prints it', async () => {
    const key = 'sk-test-0123456789';
    const child = spawn(process.execPath, [CLI, 'serve', '--model', TINY, '--device', 'cpu', '--port', '0'], { env: { ...process.env, NEURAL_DEBUG_SERVE_API_KEY: key } });
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const url = await new Promise<string>((resolve) => child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())));
    try {
      const denied = await fetch(`${url}/v1/models`);
      assert.equal(denied.status, 401);
      const allowed = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(allowed.status, 200);
      const remote = await cliAsync(['predict', SUM_LIST, '--entry', 'main', '--endpoint', url, '--max-steps', '1', '--max-frame-tokens', '8']);
      assert.equal(remote.status, 1);
      assert.match(remote.stderr, /NEURAL_DEBUG_API_KEY|rejected|401|API key/i);
    } finally {
      child.kill('SIGTERM');
      await exited(child);
    }
    assert.ok(!output.includes(key), 'the key never appears in the log');
    assert.match(output, /API key required/);
  });
});
