/**
 * A decoder with the copy path (kernels/build_copy_fixture.py: random weights, the copy path as
 * train_model.py builds it) through the real ONNX engine: the graph computes what the torch network
 * computes, whether the sequence is scored at once, grown token by token, stepped back or forked, since
 * the ids the copy path reads travel with the KV cache.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ModelBackend, ModelSequence } from '../../src/model/backend';
import { openModel } from '../../src/model/open-model';
import { maxAbsDiff, MODELS } from '../helpers/models';

interface CopyReference {
  readonly tokens: number[];
  readonly repeatFrom: number;
  readonly repeatLength: number;
  readonly argmax: number[];
  readonly logprobs: number[];
  readonly lastLogits: number[][];
}

type LogitsSequence = ModelSequence & { logits(): Promise<Float32Array> };

const REFERENCE = JSON.parse(fs.readFileSync(path.join(MODELS, 'tiny-cwm-copy-reference.json'), 'utf8')) as CopyReference;

describe('a model with the copy path', () => {
  let model: ModelBackend;
  before(async () => {
    model = await openModel({ model: path.join(MODELS, 'tiny-cwm-copy'), device: 'cpu' });
  });
  after(async () => {
    await model.close();
  });

  it('scores a whole row as the training network does', async () => {
    const { tokens } = REFERENCE;
    const sequence = await model.createSequence([tokens[0]]);
    try {
      const scores = await sequence.score(tokens.slice(1));
      const worst = Math.max(...scores.map((score, i) => Math.abs(score.logprob - REFERENCE.logprobs[i])));
      assert.ok(worst < 1e-3, `log-probabilities differ by up to ${worst}`);
      assert.deepEqual(scores.map((score) => score.topTokenId), REFERENCE.argmax.slice(0, tokens.length - 1));
      // Random weights, yet the second run of ids is mostly predicted: the path matches the ids before.
      const copied = scores.slice(REFERENCE.repeatFrom, REFERENCE.repeatFrom + REFERENCE.repeatLength - 1);
      assert.ok(copied.filter((score) => score.topTokenId === score.tokenId).length > copied.length / 2);
    } finally {
      sequence.dispose();
    }
  });

  it('gives the same logits token by token, after a step back and in a fork', async () => {
    const { tokens, lastLogits } = REFERENCE;
    const n = tokens.length;
    const sequence = (await model.createSequence([tokens[0]])) as LogitsSequence;
    try {
      for (let i = 1; i < n - 3; i++) await sequence.append([tokens[i]]);
      assert.ok(maxAbsDiff(await sequence.logits(), lastLogits[0]) < 2e-3);
      await sequence.append([tokens[n - 3], tokens[n - 2]]);
      assert.ok(maxAbsDiff(await sequence.logits(), lastLogits[2]) < 2e-3);
      await sequence.truncate(n - 2);
      const fork = (await sequence.fork()) as LogitsSequence;
      try {
        assert.ok(maxAbsDiff(await fork.logits(), lastLogits[1]) < 2e-3, 'the fork after a step back');
        await fork.append([tokens[n - 2], tokens[n - 1]]);
        assert.ok(maxAbsDiff(await fork.logits(), lastLogits[3]) < 2e-3, 'the fork grown again');
      } finally {
        fork.dispose();
      }
    } finally {
      sequence.dispose();
    }
  });
});
