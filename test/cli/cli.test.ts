/** `neural-debug` as a user runs it: the bundled dist/cli.js in a child process. */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { CLI, defaultPython, EXAMPLES, GOLDEN, PROGRAMS, tempDir } from '../helpers/env';
import { CliRun, runCli } from '../helpers/cli';

/** Without NEURAL_DEBUG_PYTHON from the developer's shell: the tests choose the interpreter. */
function cli(...args: string[]): CliRun {
  return runCli(args, { NEURAL_DEBUG_PYTHON: undefined });
}

const python = ['--python', defaultPython()];
const golden = (name: string): string => fs.readFileSync(path.join(GOLDEN, name), 'utf8');
const SUM_LIST = path.join(EXAMPLES, 'sum_list.py');

describe('neural-debug trace', () => {
  it('reproduces the worked example of the format doc, one frame a line', () => {
    const run = cli('trace', SUM_LIST, ...python);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, golden('sum_list.cwm.txt'));
  });

  it('prints the exact continuation text with --format raw, from either program shape', () => {
    const marked = cli('trace', SUM_LIST, '--format', 'raw', ...python);
    assert.equal(marked.stdout, golden('sum_list.raw.txt'));
    // The wrapper shape builds the same main() as the doc's example around a file that has none.
    const wrapped = cli('trace', path.join(PROGRAMS, 'sum_only.py'), '--entry', 'sum_list', '--args', '[1, 2, 3]', '--format', 'raw', ...python);
    assert.equal(wrapped.status, 0, wrapped.stderr);
    assert.equal(wrapped.stdout, golden('sum_list.raw.txt'));
  });

  it('prints the prompt first with --prompt', () => {
    const run = cli('trace', path.join(PROGRAMS, 'sum_only.py'), '--entry', 'sum_list', '--args', '[1, 2, 3]', '--format', 'raw', '--prompt', ...python);
    const source = fs.readFileSync(SUM_LIST, 'utf8');
    assert.equal(run.stdout, '<|begin_of_text|><|trace_context_start|>' + source + '<|frame_sep|>' + golden('sum_list.raw.txt'));
  });

  it('prints one JSON object a line with --format json, lines numbered in the user file', () => {
    const run = cli('trace', path.join(PROGRAMS, 'output.py'), '--entry', 'talk', '--format', 'json', '--quiet', ...python);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, '');
    const records = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const frames = records.filter((r) => r.type === 'frame');
    assert.deepEqual(frames[0], { type: 'frame', step: 0, event: 'call', line: null, sourceLine: 14, function: 'main', depth: 1, activation: 1, source: 'def main():  # << START_OF_TRACE', locals: {} });
    assert.deepEqual(frames.filter((f) => f.function === 'talk' && f.event === 'line').map((f) => f.line), [6, 7, 8, 9, 10, 11, 12]);
    const output = records.filter((r) => r.type === 'output');
    // Writes through sys.stdout/sys.stderr carry their exact step, one message per step and stream.
    assert.deepEqual(output.filter((r) => r.stream !== 'raw').map((r) => [r.step, r.stream, r.text]), [[4, 'stdout', 'first 1\n'], [6, 'stderr', 'to stderr\n'], [8, 'stdout', 'second 2\n']]);
    // A write straight to fd 1 is read by the tracer's pump thread: its step can lag by a few.
    const raw = output.filter((r) => r.stream === 'raw');
    assert.deepEqual(raw.map((r) => r.text), ['raw bytes\n']);
    assert.ok(Number(raw[0].step) >= 5 && Number(raw[0].step) < frames.length, `raw output at step ${raw[0].step}`);
    assert.deepEqual(records[records.length - 1], { type: 'end', reason: 'returned', message: 'the entry function returned', steps: frames.length, complete: true });
  });

  it("copies the program's output to stderr unless --quiet", () => {
    const run = cli('trace', path.join(PROGRAMS, 'output.py'), '--entry', 'talk', ...python);
    assert.match(run.stderr, /first 1\n/);
    assert.match(run.stderr, /to stderr\n/);
    assert.match(run.stderr, /neural-debug: 12 frames; the entry function returned \(Python 3\.\d+\.\d+\)\n$/);
  });

  it('prints the partial trace and exits 3 when a limit stops the program', () => {
    const run = cli('trace', path.join(PROGRAMS, 'limits.py'), '--entry', 'spin', '--max-steps', '7', ...python);
    assert.equal(run.status, 3);
    assert.equal(run.stdout.split('\n').filter(Boolean).length, 7);
    assert.ok(!run.stdout.includes('<|end_of_text|>'), 'a cut trace has no end');
    assert.match(run.stderr, /neural-debug: 7 frames; stopped at the step limit \(7 steps\)/);
  });

  it('exits 0 with <|end_of_text|> when the entry raises: the trace is complete', () => {
    const run = cli('trace', path.join(PROGRAMS, 'exceptions.py'), '--entry', 'uncaught', '--args', '1', ...python);
    assert.equal(run.status, 0);
    assert.ok(run.stdout.endsWith('<|end_of_text|>\n'));
    assert.match(run.stderr, /the entry function raised ValueError: zero/);
  });

  it('reports errors on stderr with a non-zero exit', () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['trace', '/no/such/file.py'], 1, /cannot read \/no\/such\/file\.py: no such file/],
      [['trace', path.join(PROGRAMS, 'exceptions.py'), '--entry', 'nope'], 1, /no top-level function named "nope" in the program \(it defines boom, catcher, uncaught\)/],
      [['trace', path.join(PROGRAMS, 'exceptions.py')], 1, /name the function to trace \(entry\) or mark its def line/],
      [['trace', path.join(PROGRAMS, 'broken.py'), '--entry', 'f', ...python], 1, /does not compile: invalid syntax \(line 2\)/],
      [['trace', SUM_LIST, '--python', '/no/python'], 1, /"\/no\/python" was not found/],
      [['trace'], 2, /trace needs a FILE/],
      [['trace', SUM_LIST, '--bogus'], 2, /unknown option --bogus/],
      [['trace', SUM_LIST, '--format', 'xml'], 2, /--format must be one of cwm, raw, json, not "xml"/],
      [['trace', SUM_LIST, '--max-steps', '-4'], 2, /--max-steps needs a whole number of at least 1/],
      [['trace', SUM_LIST, '--timeout'], 2, /--timeout needs a value/],
      [['frobnicate'], 2, /unknown command "frobnicate"/],
    ];
    for (const [args, status, message] of cases) {
      const run = cli(...args);
      assert.equal(run.status, status, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message, args.join(' '));
      assert.equal(run.stdout, '', args.join(' '));
    }
  });

  it('documents itself', () => {
    const help = cli('trace', '--help');
    assert.equal(help.status, 0);
    for (const option of ['--entry', '--args', '--format', '--max-steps', '--python', '--timeout', '--max-repr', '--max-output', '--max-depth', '--scope']) {
      assert.ok(help.stdout.includes(option), option);
    }
    const version = cli('--version');
    assert.equal(version.stdout.trim(), JSON.parse(fs.readFileSync(path.join(path.dirname(CLI), '..', 'package.json'), 'utf8')).version);
  });

  it('streams a 100,000-step trace as it runs', async () => {
    const marker = path.join(tempDir('nd-cli-stream-'), 'finished');
    const child = spawn(process.execPath, [CLI, 'trace', path.join(PROGRAMS, 'long_loop.py'), '--entry', 'loop', '--args', `50000, ${JSON.stringify(marker)}`, '--max-steps', '200000', '--timeout', '120', '--quiet', ...python]);
    let firstChunkWhileRunning: boolean | undefined;
    let lines = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      firstChunkWhileRunning ??= !fs.existsSync(marker);
      for (const byte of chunk) if (byte === 0x0a) lines++;
    });
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(status, 0);
    assert.ok(lines > 100_000, `${lines} lines`);
    assert.equal(firstChunkWhileRunning, true, 'output began before the program finished');
  });

  it('ends quietly when its reader goes away', async () => {
    const child = spawn(process.execPath, [CLI, 'trace', path.join(PROGRAMS, 'limits.py'), '--entry', 'spin', '--max-steps', '1000000', '--quiet', ...python]);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(status, 0);
    assert.equal(stderr, '');
  });
});
