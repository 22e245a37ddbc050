/**
 * The ONNX engine against an independent numpy reference: greedy tokens exactly, and logits after
 * incremental steps, truncate-and-regrow and forks within 1e-4 of a full recompute.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ModelError, ModelSequence } from '../../src/model/backend';
import { OnnxEngine, openOnnxEngine } from '../../src/model/onnx/engine';
import { copyModelFolder, loadReference, maxAbsDiff, Reference, ReferenceSequence, referenceSequence, TINY, TINY_FP16, TINY_NOPOS } from '../helpers/models';

const TOLERANCE = 1e-4;

/** A copy of a fixture folder with some configuration fields replaced. */
function folderWithConfig(from: string, changes: Record<string, unknown>): string {
  return copyModelFolder(from, (config) => ({ ...config, ...changes }));
}

type LogitsSequence = ModelSequence & { logits(): Promise<Float32Array> };

/**
 * With `seq` holding all but the last three tokens of `expected`, checks the logits after each of
 * the last four positions, appending one token at a time.
 */
async function expectTail(seq: ModelSequence, expected: ReferenceSequence, tolerance: number): Promise<void> {
  const n = expected.tokens.length;
  assert.deepEqual(seq.tokens(), expected.tokens.slice(0, n - 3));
  for (let k = 0; k < 4; k++) {
    const logits = await (seq as LogitsSequence).logits();
    const diff = maxAbsDiff(logits, expected.lastLogits[k]);
    assert.ok(diff < tolerance, `${expected.name}: logits after position ${n - 4 + k} differ by ${diff}`);
    if (k < 3) await seq.append([expected.tokens[n - 3 + k]]);
  }
}

for (const [label, dir] of [['position_ids input', TINY], ['positions from attention_mask', TINY_NOPOS]] as const) {
  describe(`ONNX engine, float32 (${label})`, () => {
    let engine: OnnxEngine;
    let reference: Reference;
    before(async () => {
      reference = loadReference();
      engine = await openOnnxEngine(dir, { executionProvider: 'cpu' });
    });
    after(() => engine.close());

    it('reports what it loaded', () => {
      assert.equal(engine.info.backend, 'onnx');
      assert.equal(engine.info.device, 'cpu');
      assert.equal(engine.info.vocabSize, reference.vocabSize);
      assert.equal(engine.info.deviceNote, undefined);
    });

    it('decodes greedily exactly like the reference', async () => {
      const seq = await engine.createSequence(reference.prompt);
      const streamed: number[] = [];
      const result = await seq.generate({ maxTokens: reference.greedy.length, stopTokenIds: [], onToken: (t) => streamed.push(t) });
      assert.deepEqual(result.tokens, reference.greedy);
      assert.deepEqual(streamed, reference.greedy);
      assert.equal(result.finishReason, 'length');
      assert.deepEqual(seq.tokens(), [...reference.prompt, ...reference.greedy]);
      seq.dispose();
    });

    it('matches a full recompute after one-token steps (past the local window)', async () => {
      const grown = referenceSequence(reference, 'grown');
      const seq = await engine.createSequence(grown.tokens.slice(0, 1));
      for (const token of grown.tokens.slice(1, grown.tokens.length - 3)) {
        await seq.append([token]);
        await (seq as LogitsSequence).logits();
      }
      await expectTail(seq, grown, TOLERANCE);
      seq.dispose();
    });

    it('matches a full recompute after a prefill in one run', async () => {
      const grown = referenceSequence(reference, 'grown');
      const seq = await engine.createSequence(grown.tokens.slice(0, grown.tokens.length - 3));
      await expectTail(seq, grown, TOLERANCE);
      seq.dispose();
    });

    it('prefills a long prompt in several runs exactly as in small steps', async () => {
      const long = Array.from({ length: 1100 }, (_, i) => reference.greedy[(i * 7) % reference.greedy.length]);
      const whole = await engine.createSequence(long);
      const before = await engine.stats();
      const wholeLogits = await (whole as LogitsSequence).logits();
      assert.ok((await engine.stats()).runs - before.runs > 1, 'the prefill was split into runs');
      const stepped = await engine.createSequence(long.slice(0, 100));
      for (let at = 100; at < long.length; at += 50) {
        await (stepped as LogitsSequence).logits();
        await stepped.append(long.slice(at, at + 50));
      }
      assert.ok(maxAbsDiff(await (stepped as LogitsSequence).logits(), wholeLogits) < TOLERANCE);
      whole.dispose();
      stepped.dispose();
    });

    it('matches after truncate-and-regrow, computing only the new tokens', async () => {
      const grown = referenceSequence(reference, 'grown');
      const regrown = referenceSequence(reference, 'regrown');
      const seq = await engine.createSequence(grown.tokens);
      await (seq as LogitsSequence).logits();
      const before = await engine.stats();
      await seq.truncate(30);
      assert.equal(seq.length, 30);
      await seq.append(regrown.tokens.slice(30, regrown.tokens.length - 3));
      await expectTail(seq, regrown, TOLERANCE);
      const spent = (await engine.stats()).tokensComputed - before.tokensComputed;
      // The kept 30 tokens are not re-read; only the last one is recomputed for its logits.
      assert.equal(spent, 1 + (regrown.tokens.length - 30));
      seq.dispose();
    });

    it('forks without disturbing the parent', async () => {
      const grown = referenceSequence(reference, 'grown');
      const forked = referenceSequence(reference, 'forked');
      const parent = await engine.createSequence(grown.tokens.slice(0, 45));
      await (parent as LogitsSequence).logits();
      const child = await parent.fork();
      await child.append(forked.tokens.slice(45, forked.tokens.length - 3));
      await expectTail(child, forked, TOLERANCE);
      await parent.append(grown.tokens.slice(45, grown.tokens.length - 3));
      await expectTail(parent, grown, TOLERANCE);
      child.dispose();
      parent.dispose();
    });

    it('scores a continuation in one pass like the reference', async () => {
      const grown = referenceSequence(reference, 'grown');
      const promptLength = reference.prompt.length;
      const seq = await engine.createSequence(grown.tokens.slice(0, promptLength));
      const continuation = grown.tokens.slice(promptLength);
      const before = await engine.stats();
      const scores = await seq.score(continuation);
      assert.equal((await engine.stats()).runs - before.runs, 2, 'one run for the prompt, one for the whole continuation');
      assert.equal(scores.length, continuation.length);
      scores.forEach((score, i) => {
        const at = promptLength - 1 + i;
        assert.equal(score.tokenId, continuation[i]);
        assert.ok(Math.abs(score.logprob - grown.logprobs[at]) < TOLERANCE, `logprob at ${at + 1}: ${score.logprob} vs ${grown.logprobs[at]}`);
        assert.equal(score.topTokenId, grown.argmax[at]);
        assert.ok(score.topLogprob >= score.logprob - 1e-6);
      });
      // The greedy part of the continuation is the model's own top choice at every step.
      for (let i = 0; i < reference.greedy.length; i++) assert.equal(scores[i].topTokenId, scores[i].tokenId);
      assert.equal(seq.length, promptLength, 'scoring leaves the sequence as it was');
      const kept = await seq.score(continuation, { append: true });
      assert.deepEqual(kept, scores);
      assert.equal(seq.length, grown.tokens.length);
      seq.dispose();
    });

    it('stops on a stop token and keeps it in the sequence', async () => {
      const seq = await engine.createSequence(reference.prompt);
      const stop = reference.greedy[5];
      const result = await seq.generate({ maxTokens: 100, stopTokenIds: [stop] });
      assert.equal(result.finishReason, 'stop');
      assert.deepEqual(result.tokens, reference.greedy.slice(0, reference.greedy.indexOf(stop) + 1));
      assert.equal(seq.tokens().at(-1), stop);
      seq.dispose();
    });

    it('replays a seeded sample and never picks an id past the tokenizer', async () => {
      const draw = async (seed: number): Promise<readonly number[]> => {
        const seq = await engine.createSequence(reference.prompt);
        const result = await seq.generate({ maxTokens: 30, stopTokenIds: [], temperature: 1.5, topP: 0.95, seed });
        seq.dispose();
        return result.tokens;
      };
      const first = await draw(7);
      assert.deepEqual(await draw(7), first);
      assert.notDeepEqual(await draw(8), first);
      for (const token of [...first, ...(await draw(9))]) assert.ok(token < engine.tokenizer.size);
    });

    it('cancels a generation between tokens and keeps the sequence consistent', async () => {
      const seq = await engine.createSequence(reference.prompt);
      const controller = new AbortController();
      const seen: number[] = [];
      await assert.rejects(
        seq.generate({
          maxTokens: 400,
          stopTokenIds: [],
          signal: controller.signal,
          onToken: (token) => {
            seen.push(token);
            if (seen.length === 5) controller.abort();
          },
        }),
        (error: unknown) => error instanceof ModelError && error.code === 'cancelled',
      );
      assert.ok(seen.length >= 5 && seen.length < 400);
      assert.deepEqual(seq.tokens(), [...reference.prompt, ...seen]);
      const next = await seq.generate({ maxTokens: 1, stopTokenIds: [] });
      assert.equal(next.tokens.length, 1, 'the sequence is still usable');
      seq.dispose();
    });

    it('stops at the end of the context, and refuses tokens past it', async () => {
      const small = await openOnnxEngine(folderWithConfig(dir, { contextLength: 100 }), { executionProvider: 'cpu' });
      try {
        const seq = await small.createSequence(Array.from({ length: 97 }, (_, i) => reference.prompt[i % reference.prompt.length]));
        const result = await seq.generate({ maxTokens: 10, stopTokenIds: [] });
        assert.equal(result.finishReason, 'context');
        assert.equal(result.tokens.length, 3);
        await assert.rejects(seq.append([1]), (error: unknown) => error instanceof ModelError && error.code === 'context' && /101 tokens do not fit the model's context of 100/.test(error.message));
      } finally {
        await small.close();
      }
    });

    it('rejects bad requests clearly and stays usable', async () => {
      await assert.rejects(engine.createSequence([engine.info.vocabSize]), /outside the model's vocabulary/);
      const empty = await engine.createSequence();
      await assert.rejects(empty.generate({ maxTokens: 1, stopTokenIds: [] }), /empty sequence/);
      await assert.rejects(empty.truncate(-1), /cannot truncate/);
      empty.dispose();
      await assert.rejects(empty.append([1]), /disposed/);
      const seq = await engine.createSequence(reference.prompt);
      assert.deepEqual((await seq.generate({ maxTokens: 3, stopTokenIds: [] })).tokens, reference.greedy.slice(0, 3));
      seq.dispose();
    });
  });
}

describe('ONNX engine, float16 KV cache and logits', () => {
  let engine: OnnxEngine;
  let reference: Reference;
  before(async () => {
    reference = loadReference();
    engine = await openOnnxEngine(TINY_FP16, { executionProvider: 'cpu' });
  });
  after(() => engine.close());

  it('stays close to the float64 reference through steps, truncation and forks', async () => {
    // float16 at the graph's edges rounds the cache: the tolerance is float16's, not float32's.
    const grown = referenceSequence(reference, 'grown');
    const regrown = referenceSequence(reference, 'regrown');
    const seq = await engine.createSequence(grown.tokens.slice(0, 20));
    for (const token of grown.tokens.slice(20, grown.tokens.length - 3)) await seq.append([token]);
    await expectTail(seq, grown, 0.05);
    const fork = await seq.fork();
    await fork.truncate(30);
    await fork.append(regrown.tokens.slice(30, regrown.tokens.length - 3));
    await expectTail(fork, regrown, 0.05);
    fork.dispose();
    seq.dispose();
  });
});

describe('ONNX engine: loading', () => {
  it('falls back to the CPU when CUDA cannot load, and says why', async () => {
    const engine = await openOnnxEngine(TINY, { executionProvider: 'cuda' });
    try {
      assert.equal(engine.info.device, 'cpu');
      const note = engine.info.deviceNote ?? '';
      assert.match(note, /CUDA was requested but could not be used \(.+\); running on the CPU instead/);
      assert.match(note, /provider libraries/);
      const reference = loadReference();
      const seq = await engine.createSequence(reference.prompt);
      assert.deepEqual((await seq.generate({ maxTokens: 5, stopTokenIds: [] })).tokens, reference.greedy.slice(0, 5));
    } finally {
      await engine.close();
    }
  });

  it('names the file and the fix when the graph is corrupt', async () => {
    const dir = copyModelFolder(TINY);
    fs.writeFileSync(path.join(dir, 'model.onnx'), fs.readFileSync(path.join(TINY, 'model.onnx')).subarray(0, 5000));
    await assert.rejects(openOnnxEngine(dir, { executionProvider: 'cpu' }), (error: unknown) => {
      assert.ok(error instanceof ModelError && error.code === 'load');
      assert.match(error.message, /ONNX Runtime cannot load .*model\.onnx/);
      return true;
    });
  });

  it('refuses a graph that does not match its configuration', async () => {
    const open = (changes: Record<string, unknown>): Promise<OnnxEngine> => openOnnxEngine(folderWithConfig(TINY, changes), { executionProvider: 'cpu' });
    await assert.rejects(open({ numLayers: 1, attentionWindows: [16] }), /has 2 layers of KV cache, but neural-debug-model.json says numLayers 1/);
    await assert.rejects(open({ dtype: 'float16' }), /of type float32, but neural-debug-model.json says dtype float16/);
    await assert.rejects(open({ vocabSize: 500 }), /(512 logits per token|logits have 512 entries)/);
  });

  it('rejects calls after close and ends the worker', async () => {
    const engine = await openOnnxEngine(TINY, { executionProvider: 'cpu' });
    const seq = await engine.createSequence(loadReference().prompt);
    const pending = assert.rejects(seq.generate({ maxTokens: 200, stopTokenIds: [] }), (error: unknown) => error instanceof ModelError && error.code === 'closed');
    await engine.close();
    await pending;
    await assert.rejects(engine.createSequence([1]), /closed/);
  });
});
