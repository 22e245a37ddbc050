/**
 * The bundled model's training data, as kernels/retrain.sh makes it: the program generator is
 * deterministic and keeps excluded programs out, and renaming identifiers yields traces that the
 * renamed programs really produce (re-traced with our tracer, byte for byte).
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { CLI, defaultPython, REPO_ROOT, tempDir } from '../helpers/env';

const KERNELS = path.join(REPO_ROOT, 'kernels');

function run(command: string, args: readonly string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  assert.equal(result.status, 0, `${path.basename(args[0] ?? command)}: ${result.stderr}`);
  return result.stderr;
}

function generate(out: string, seed: number, count: number, exclude?: string): string {
  return run(defaultPython(), [path.join(KERNELS, 'generate_programs.py'), '--seed', String(seed), '--count', String(count), '--out', out, ...(exclude ? ['--exclude', exclude] : [])]);
}

function lines(file: string): Array<Record<string, string>> {
  return fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, string>);
}

describe('training data: generate_programs.py', () => {
  let dir = '';
  before(() => {
    dir = tempDir('nd-gen-');
  });

  it('writes the same programs for the same seed, and others for another seed', () => {
    generate(path.join(dir, 'a.jsonl'), 5, 40);
    generate(path.join(dir, 'b.jsonl'), 5, 40);
    generate(path.join(dir, 'c.jsonl'), 6, 40);
    const a = fs.readFileSync(path.join(dir, 'a.jsonl'));
    assert.ok(a.equals(fs.readFileSync(path.join(dir, 'b.jsonl'))));
    assert.ok(!a.equals(fs.readFileSync(path.join(dir, 'c.jsonl'))));
    const rows = lines(path.join(dir, 'a.jsonl'));
    assert.equal(rows.length, 40);
    assert.ok(rows.every((row) => /^def f\(/m.test(row.code) && typeof row.input === 'string'), 'every program defines f');
  });

  it('drops programs that equal or closely resemble an excluded one', () => {
    const all = lines(path.join(dir, 'a.jsonl'));
    // Three of its own programs as the "evaluation set", one of them with changed whitespace.
    const excluded = [all[3], all[10], { ...all[20], code: all[20].code.replace(/ = /g, '=') }];
    const excludeFile = path.join(dir, 'exclude.jsonl');
    fs.writeFileSync(excludeFile, excluded.map((row) => JSON.stringify({ code: row.code, input: row.input })).join('\n') + '\n');
    const stderr = generate(path.join(dir, 'd.jsonl'), 5, 40, excludeFile);
    const kept = lines(path.join(dir, 'd.jsonl'));
    assert.equal(kept.length, 40);
    for (const row of [all[3], all[10], all[20]]) assert.ok(!kept.some((other) => other.code === row.code), `kept an excluded program:\n${row.code}`);
    const dropped = /dropped \d+ repeats and (\d+) too close/.exec(stderr);
    assert.ok(dropped && Number(dropped[1]) >= 3, stderr);
  });
});

describe('training data: rename_identifiers.py', () => {
  it('renames only where the renamed program really runs that way: re-traced, the text is identical', () => {
    const dir = tempDir('nd-rename-');
    const programs = path.join(dir, 'programs.jsonl');
    generate(programs, 11, 25);
    const traces = path.join(dir, 'traces.jsonl');
    run(process.execPath, [CLI, 'dataset', '--data', programs, '--out', traces, '--python', defaultPython()]);
    const renamed = path.join(dir, 'renamed.jsonl');
    run(defaultPython(), [path.join(KERNELS, 'rename_identifiers.py'), '--data', traces, '--seed', '3', '--out', renamed]);

    const before = lines(traces);
    const after = lines(renamed);
    assert.equal(after.length, before.length);
    const changed = after.filter((row, i) => row.text !== before[i].text).length;
    assert.ok(changed >= before.length / 2, `only ${changed} of ${before.length} traces renamed`);

    // Each renamed prompt is a program: f's code plus main() calling f(ARGS). Trace it again.
    const rows = after.map((row) => {
      const source = row.text.slice('<|begin_of_text|><|trace_context_start|>'.length, row.text.indexOf('<|frame_sep|>'));
      const at = source.lastIndexOf('\ndef main():');
      const call = /\n {4}return f\((.*)\)\n$/s.exec(source.slice(at));
      assert.ok(at > 0 && call, source);
      return { id: row.id, code: source.slice(0, at).replace(/\n+$/, '\n'), input: call[1] };
    });
    const again = path.join(dir, 'again-rows.jsonl');
    fs.writeFileSync(again, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
    const retraced = path.join(dir, 'again.jsonl');
    run(process.execPath, [CLI, 'dataset', '--data', again, '--out', retraced, '--python', defaultPython()]);
    const byId = new Map(lines(retraced).map((row) => [row.id, row.text]));
    for (const row of after) assert.equal(byId.get(row.id), row.text, `renamed trace ${row.id} is not what the renamed program does`);
  });
});
