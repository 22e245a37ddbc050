/**
 * The bundled model (models/cwm-tiny): it loads through the same path as any CWM export, its ONNX
 * graph computes what training computed (test/fixtures/models/cwm-tiny-reference.json, written by
 * kernels/train_model.py from the float16-rounded weights), and it is what the CLI uses when no
 * model is named.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ModelBackend, ModelSequence } from '../../src/model/backend';
import { BUNDLED_MODEL_DIR, findBundledModel, openModel } from '../../src/model/open-model';
import { CLI, defaultPython, EXAMPLES, REPO_ROOT } from '../helpers/env';
import { maxAbsDiff } from '../helpers/models';

const BUNDLED = path.join(REPO_ROOT, BUNDLED_MODEL_DIR);
const REFERENCE = path.join(REPO_ROOT, 'test', 'fixtures', 'models', 'cwm-tiny-reference.json');

interface TrainingReference {
  readonly tokens: number[];
  readonly argmax: number[];
  readonly logprobs: number[];
  readonly lastLogits: number[][];
}

type LogitsSequence = ModelSequence & { logits(): Promise<Float32Array> };

describe('the bundled model', () => {
  let model: ModelBackend;
  before(async () => {
    model = await openModel({ model: BUNDLED, device: 'cpu' });
  });
  after(async () => {
    await model.close();
  });

  it('is a plain model folder of at most 30 MB that the runtime finds by itself', () => {
    const bytes = fs.readdirSync(BUNDLED).reduce((sum, name) => sum + fs.statSync(path.join(BUNDLED, name)).size, 0);
    assert.ok(bytes < 30 * 1024 * 1024, `${bytes} bytes`);
    assert.equal(findBundledModel([REPO_ROOT]), BUNDLED);
    assert.match(model.info.name, /cwm-tiny/);
  });

  it('computes what training computed: logits and log-probabilities of a held-out trace', async () => {
    const reference = JSON.parse(fs.readFileSync(REFERENCE, 'utf8')) as TrainingReference;
    const n = reference.tokens.length;
    const sequence = await model.createSequence([reference.tokens[0]]);
    try {
      const scores = await sequence.score(reference.tokens.slice(1));
      const worst = Math.max(...scores.map((score, i) => Math.abs(score.logprob - reference.logprobs[i])));
      assert.ok(worst < 1e-3, `log-probabilities differ by up to ${worst}`);
      assert.deepEqual(scores.map((score) => score.topTokenId), reference.argmax.slice(0, n - 1));
      await sequence.append(reference.tokens.slice(1, n - 3));
      for (let k = 0; k < 4; k++) {
        const diff = maxAbsDiff(await (sequence as LogitsSequence).logits(), reference.lastLogits[k]);
        assert.ok(diff < 2e-3, `logits after position ${n - 4 + k} differ by ${diff}`);
        if (k < 3) await sequence.append([reference.tokens[n - 3 + k]]);
      }
      // A step back and a fork carry the ids the copy path reads with the cache: the same logits again.
      await sequence.truncate(n - 2);
      const fork = await sequence.fork();
      try {
        const diff = maxAbsDiff(await (fork as LogitsSequence).logits(), reference.lastLogits[1]);
        assert.ok(diff < 2e-3, `logits after a step back and a fork differ by ${diff}`);
      } finally {
        fork.dispose();
      }
    } finally {
      sequence.dispose();
    }
  });

  it('is the CLI default: predict with no --model runs it and ends the trace of a small program', () => {
    const file = path.join(EXAMPLES, 'sum_list.py');
    const out = execFileSync(process.execPath, [CLI, 'predict', file, '--entry', 'main', '--format', 'json', '--max-steps', '60', '--python', defaultPython()], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = out.trim().split('\n').map((line) => JSON.parse(line) as { type: string; reason?: string });
    assert.ok(lines.filter((line) => line.type === 'frame').length > 3, out);
    assert.deepEqual(lines[lines.length - 1].type, 'end');
  });
});
