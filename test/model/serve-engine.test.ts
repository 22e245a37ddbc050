/**
 * The remote client against `neural-debug serve`'s server on 127.0.0.1, backed by the real ONNX
 * engine: the same tokens and scores as the engine in-process, prefix caching that really saves work.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { ModelBackend } from '../../src/model/backend';
import { OnnxEngine, openOnnxEngine } from '../../src/model/onnx/engine';
import { openRemoteBackend } from '../../src/model/remote';
import { RunningServer, startServer } from '../../src/model/serve';
import { loadReference, Reference, referenceSequence, TINY } from '../helpers/models';

describe('remote client ↔ neural-debug serve ↔ ONNX engine', () => {
  let engine: OnnxEngine;
  let server: RunningServer;
  let remote: ModelBackend;
  let reference: Reference;
  before(async () => {
    reference = loadReference();
    engine = await openOnnxEngine(TINY, { executionProvider: 'cpu' });
    server = await startServer({ backend: engine });
    remote = await openRemoteBackend({ endpoint: server.url });
  });
  after(async () => {
    await remote.close();
    await server.close();
    await engine.close();
  });

  it('describes the served model', () => {
    assert.equal(remote.info.backend, 'remote');
    assert.equal(remote.info.name, engine.info.name);
    assert.equal(remote.info.contextLength, engine.info.contextLength);
    assert.deepEqual(remote.info.specialTokenIds, engine.info.specialTokenIds);
    assert.deepEqual(remote.info.eosTokenIds, engine.info.eosTokenIds);
    assert.equal(remote.tokenizer.size, engine.tokenizer.size);
  });

  it('streams the same greedy tokens as the engine in-process', async () => {
    const seq = await remote.createSequence(reference.prompt);
    const streamed: number[] = [];
    const result = await seq.generate({ maxTokens: reference.greedy.length, stopTokenIds: [], onToken: (t) => streamed.push(t) });
    assert.deepEqual(result.tokens, reference.greedy);
    assert.deepEqual(streamed, reference.greedy);
    assert.equal(result.finishReason, 'length');
    assert.deepEqual(seq.tokens(), [...reference.prompt, ...reference.greedy]);
  });

  it('stops on a stop token and keeps it, like the engine', async () => {
    const stop = reference.greedy[7];
    const local = await engine.createSequence(reference.prompt);
    const expected = await local.generate({ maxTokens: 100, stopTokenIds: [stop] });
    local.dispose();
    const seq = await remote.createSequence(reference.prompt);
    const result = await seq.generate({ maxTokens: 100, stopTokenIds: [stop] });
    assert.deepEqual(result, expected);
    assert.equal(seq.tokens().at(-1), stop);
  });

  it('samples the same tokens for the same seed', async () => {
    const options = { maxTokens: 25, stopTokenIds: [], temperature: 1.2, topP: 0.9, seed: 31 };
    const local = await engine.createSequence(reference.prompt);
    const expected = await local.generate(options);
    local.dispose();
    const seq = await remote.createSequence(reference.prompt);
    assert.deepEqual((await seq.generate(options)).tokens, expected.tokens);
  });

  it('scores a continuation like the engine and the reference', async () => {
    const grown = referenceSequence(reference, 'grown');
    const prompt = grown.tokens.slice(0, reference.prompt.length);
    const continuation = grown.tokens.slice(reference.prompt.length);
    const local = await engine.createSequence(prompt);
    const expected = await local.score(continuation);
    local.dispose();
    const seq = await remote.createSequence(prompt);
    const scores = await seq.score(continuation);
    assert.equal(scores.length, expected.length);
    scores.forEach((score, i) => {
      assert.equal(score.tokenId, expected[i].tokenId);
      assert.equal(score.topTokenId, expected[i].topTokenId);
      assert.ok(Math.abs(score.logprob - expected[i].logprob) < 1e-4, `position ${i}`);
      assert.ok(Math.abs(score.topLogprob - expected[i].topLogprob) < 1e-4, `position ${i}`);
    });
  });

  it('re-sends a long prefix at the cost of its new tokens only', async () => {
    const seq = await remote.createSequence(reference.prompt);
    await seq.generate({ maxTokens: 20, stopTokenIds: [] });
    const before = (await engine.stats()).tokensComputed;
    // A debugger's next frame: the whole prefix again, plus a few forced tokens, then generation.
    await seq.append([reference.greedy[0], reference.greedy[1]]);
    await seq.generate({ maxTokens: 5, stopTokenIds: [] });
    const spent = (await engine.stats()).tokensComputed - before;
    assert.ok(spent <= 2 + 5 + 1, `the server recomputed ${spent} tokens for 7 new ones`);
  });

  it('cancels a streamed generation on the server when the client aborts', async () => {
    const seq = await remote.createSequence(reference.prompt);
    const controller = new AbortController();
    let seen = 0;
    await assert.rejects(
      seq.generate({
        maxTokens: 5000,
        stopTokenIds: [],
        signal: controller.signal,
        onToken: () => {
          if (++seen === 3) controller.abort();
        },
      }),
      /cancelled/,
    );
    const after = await remote.createSequence(reference.prompt);
    assert.deepEqual((await after.generate({ maxTokens: 3, stopTokenIds: [] })).tokens, reference.greedy.slice(0, 3), 'the server is free again');
  });
});
