/**
 * The remote backend against scripted servers on 127.0.0.1 that speak vLLM's wire format and
 * misbehave on purpose. After every test the server has no open connection left and the process
 * holds no timer (the file exits by itself).
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { ModelError, ModelSequence } from '../../src/model/backend';
import { openRemoteBackend, RemoteBackend, RemoteBackendOptions } from '../../src/model/remote';
import { loadFixtureTokenizer } from '../helpers/deterministic-backend';
import { tempDir } from '../helpers/env';
import { delay, DONE, RecordedRequest, Script, scriptedServer, ScriptedServer, sendJson, startStream, TlsMaterial, vllmChunk, vllmModels } from '../helpers/scripted-http';

const tokenizer = loadFixtureTokenizer();
const FRAME = tokenizer.special('<|frame_sep|>');
const EOS = tokenizer.special('<|end_of_text|>');
const PROMPT = [tokenizer.special('<|begin_of_text|>'), tokenizer.special('<|trace_context_start|>'), 40, 41, 42, FRAME];
const API_KEY = 'sk-test-4f1c9e2ab7';

/** Everything a test opened, closed after it; then the leak checks. */
const cleanups: (() => Promise<void>)[] = [];
let servers: ScriptedServer[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  for (const server of servers) {
    await server.waitForNoConnections();
    await server.close();
  }
  servers = [];
  assert.deepEqual(timers(), [], 'a timer is still pending after the test');
});

function timers(): string[] {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout');
}

/** A vLLM-like server: /v1/models answers, /v1/completions runs `completions`. */
async function vllm(completions: Script, maxModelLen = 4096): Promise<ScriptedServer> {
  return serve((request, res, index) => {
    if (request.path === '/v1/models') return sendJson(res, 200, vllmModels('facebook/cwm', maxModelLen));
    if (request.path === '/v1/completions') return completions(request, res, index);
    sendJson(res, 404, { error: { message: 'Not Found' } });
  });
}

async function serve(script: Script, tls?: TlsMaterial): Promise<ScriptedServer> {
  const server = await scriptedServer(script, tls);
  servers.push(server);
  return server;
}

async function open(server: ScriptedServer, options: Partial<RemoteBackendOptions> = {}): Promise<RemoteBackend> {
  const backend = await openRemoteBackend({ endpoint: server.url, tokenizer, apiKey: API_KEY, retryDelayMs: 5, ...options });
  cleanups.push(() => backend.close());
  return backend;
}

async function withPrompt(backend: RemoteBackend, prompt = PROMPT): Promise<ModelSequence> {
  return backend.createSequence(prompt);
}

function completionRequests(server: ScriptedServer): RecordedRequest[] {
  return server.requests.filter((r) => r.path === '/v1/completions');
}

async function rejection(promise: Promise<unknown>): Promise<ModelError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ModelError, `expected a ModelError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

describe('opening a remote backend', () => {
  it('learns the model from /v1/models and never shows credentials', async () => {
    const server = await vllm(() => undefined, 8192);
    const url = server.url.replace('http://', 'http://user:pass@') + '/v1/';
    const backend = await openRemoteBackend({ endpoint: url, tokenizer, apiKey: API_KEY });
    cleanups.push(() => backend.close());
    assert.equal(backend.info.name, 'facebook/cwm');
    assert.equal(backend.info.backend, 'remote');
    assert.equal(backend.info.device, server.url);
    assert.equal(backend.info.contextLength, 8192);
    assert.equal(backend.info.vocabSize, tokenizer.size);
    assert.deepEqual(backend.info.eosTokenIds, [EOS, 466], '<|end_of_text|> and <|eot_id|>');
    assert.deepEqual(backend.info.specialTokenIds, tokenizer.specialTokenIds);
    assert.equal(backend.servedByNeuralDebug, false);
    assert.equal(server.requests[0].path, '/v1/models');
    assert.equal(server.requests[0].headers.authorization, `Bearer ${API_KEY}`);
  });

  it('a model the server does not serve is refused with the ones it does', async () => {
    const server = await vllm(() => undefined);
    const error = await rejection(openRemoteBackend({ endpoint: server.url, tokenizer, model: 'other/model' }));
    assert.equal(error.code, 'bad-request');
    assert.match(error.message, /"facebook\/cwm"/);
  });

  it('a plain vLLM cannot send the tokenizer: the error says to give tokenizer.json', async () => {
    const server = await vllm(() => undefined);
    const error = await rejection(openRemoteBackend({ endpoint: server.url }));
    assert.equal(error.code, 'tokenizer');
    assert.match(error.message, /tokenizer\.json/);
  });

  it('nothing listening: a connect error naming the endpoint', async () => {
    const server = await scriptedServer(() => undefined);
    const url = server.url;
    await server.close();
    const error = await rejection(openRemoteBackend({ endpoint: url, tokenizer, retries: 0 }));
    assert.equal(error.code, 'connect');
    assert.ok(error.message.includes(url), error.message);
    assert.match(error.message, /is the server running/);
  });

  it('500 then success: retried', async () => {
    const server = await serve((_request, res, index) => {
      if (index === 0) return sendJson(res, 500, { error: { message: 'engine warming up' } });
      sendJson(res, 200, vllmModels());
    });
    const backend = await open(server);
    assert.equal(backend.info.name, 'facebook/cwm');
    assert.equal(server.requests.length, 2);
  });

  it('401: an auth error at once, no retry, and the key in no message', async () => {
    const server = await serve((_request, res) => sendJson(res, 401, { error: { message: `invalid key ${API_KEY}` } }));
    const error = await rejection(open(server));
    assert.equal(error.code, 'auth');
    assert.equal(server.requests.length, 1);
    assert.ok(!error.message.includes(API_KEY), error.message);
    assert.ok(!(error.stack ?? '').includes(API_KEY));
    assert.match(error.message, /check the API key/);
  });

  it('an answer that is not JSON is a protocol error', async () => {
    const server = await serve((_request, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>proxy login</html>');
    });
    const error = await rejection(open(server));
    assert.equal(error.code, 'protocol');
    assert.match(error.message, /not JSON/);
  });

  it('a server that accepts the connection but never answers: first-byte timeout', async () => {
    const server = await serve(() => undefined);
    const started = Date.now();
    const error = await rejection(open(server, { timeouts: { firstByteMs: 150 } }));
    assert.equal(error.code, 'timeout');
    assert.ok(Date.now() - started < 2000);
    // The advice names only what exists: no setting for this timeout is offered.
    assert.match(error.message, /did not answer within .*a very long prompt takes longer to read: try a shorter program, or a less busy server/);
  });
});

describe('generate over a vLLM stream', () => {
  it('asks for token ids, stops exactly on the caller\'s stop tokens and streams tokens as they arrive', async () => {
    let sawFirst!: () => void;
    const firstSeen = new Promise<void>((resolve) => (sawFirst = resolve));
    const server = await vllm(async (_request, res) => {
      startStream(res);
      res.write(vllmChunk([10]));
      // The rest only comes once the client has reported the first token: a client that waited for
      // the whole answer would hang here.
      await firstSeen;
      res.write(vllmChunk([11]));
      res.write(vllmChunk([FRAME], { finish: 'stop', stopReason: FRAME }));
      res.end(DONE);
    });
    const backend = await open(server);
    const seq = await withPrompt(backend);
    const seen: number[] = [];
    const result = await seq.generate({
      maxTokens: 20,
      stopTokenIds: [FRAME],
      temperature: 0.5,
      topP: 0.9,
      seed: 7,
      onToken: (id) => {
        seen.push(id);
        if (seen.length === 1) sawFirst();
      },
    });
    assert.deepEqual(result, { tokens: [10, 11, FRAME], finishReason: 'stop' });
    assert.deepEqual(seen, [10, 11, FRAME]);
    assert.deepEqual(seq.tokens(), [...PROMPT, 10, 11, FRAME]);
    const body = completionRequests(server)[0].json ?? {};
    assert.deepEqual(body.prompt, PROMPT);
    assert.equal(body.model, 'facebook/cwm');
    assert.equal(body.stream, true);
    assert.equal(body.max_tokens, 20);
    assert.equal(body.temperature, 0.5);
    assert.equal(body.top_p, 0.9);
    assert.equal(body.seed, 7);
    assert.deepEqual(body.stop_token_ids, [FRAME]);
    assert.equal(body.ignore_eos, true);
    assert.equal(body.skip_special_tokens, false);
    assert.equal(body.spaces_between_special_tokens, false);
    assert.equal(body.logprobs, 0);
    assert.equal(body.return_tokens_as_token_ids, true);
    assert.equal(body.return_token_ids, true);
    assert.equal(completionRequests(server)[0].headers.accept, 'text/event-stream');
  });

  it('a stop token the server left out is appended, so the sequence ends with it', async () => {
    const server = await vllm((_request, res) => {
      startStream(res);
      res.write(vllmChunk([10, 11], { viaLogprobs: false }));
      res.write(vllmChunk([], { finish: 'stop', stopReason: FRAME, viaLogprobs: false }));
      res.end(DONE);
    });
    const seq = await withPrompt(await open(server));
    const seen: number[] = [];
    const result = await seq.generate({ maxTokens: 20, stopTokenIds: [FRAME], onToken: (id) => seen.push(id) });
    assert.deepEqual(result, { tokens: [10, 11, FRAME], finishReason: 'stop' });
    assert.deepEqual(seen, [10, 11, FRAME]);
    assert.equal(seq.tokens().at(-1), FRAME);
  });

  it('"stop" with no stop_reason is the model\'s EOS: <|end_of_text|> ends the sequence', async () => {
    const server = await vllm((_request, res) => {
      startStream(res);
      res.write(vllmChunk([10]));
      res.write(vllmChunk([], { finish: 'stop', stopReason: null }));
      res.end(DONE);
    });
    const seq = await withPrompt(await open(server));
    const result = await seq.generate({ maxTokens: 20, stopTokenIds: [FRAME, EOS] });
    assert.deepEqual(result, { tokens: [10, EOS], finishReason: 'stop' });
  });

  it('"length", and "context" when the context ran out first (then nothing more is asked)', async () => {
    const server = await vllm((request, res) => {
      const n = Number(request.json?.max_tokens);
      startStream(res);
      res.write(vllmChunk(Array.from({ length: n }, (_, i) => 20 + i), { finish: 'length' }));
      res.end(DONE);
    }, PROMPT.length + 5);
    const seq = await withPrompt(await open(server));
    assert.deepEqual(await seq.generate({ maxTokens: 2, stopTokenIds: [FRAME] }), { tokens: [20, 21], finishReason: 'length' });
    assert.deepEqual(await seq.generate({ maxTokens: 10, stopTokenIds: [FRAME] }), { tokens: [20, 21, 22], finishReason: 'context' });
    assert.equal(completionRequests(server)[1].json?.max_tokens, 3, 'asks only for what fits');
    assert.deepEqual(await seq.generate({ maxTokens: 10, stopTokenIds: [FRAME] }), { tokens: [], finishReason: 'context' });
    assert.equal(completionRequests(server).length, 2);
  });

  it('the server dies mid-stream: the client resumes for the rest and keeps every token', async () => {
    const server = await vllm((request, res, index) => {
      startStream(res);
      if (index === 1) {
        res.write(vllmChunk([10]));
        res.write(vllmChunk([11]));
        // Let the two events leave before the socket dies.
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      const n = Number(request.json?.max_tokens);
      res.write(vllmChunk(Array.from({ length: n }, (_, i) => 12 + i), { finish: 'length' }));
      res.end(DONE);
    });
    const seq = await withPrompt(await open(server));
    const seen: number[] = [];
    const result = await seq.generate({ maxTokens: 5, stopTokenIds: [FRAME], onToken: (id) => seen.push(id) });
    assert.deepEqual(result, { tokens: [10, 11, 12, 13, 14], finishReason: 'length' });
    assert.deepEqual(seen, [10, 11, 12, 13, 14]);
    assert.deepEqual(seq.tokens(), [...PROMPT, 10, 11, 12, 13, 14]);
    const resumed = completionRequests(server)[1].json ?? {};
    assert.deepEqual(resumed.prompt, [...PROMPT, 10, 11], 'the resumed request carries what had arrived');
    assert.equal(resumed.max_tokens, 3, 'and asks only for the rest of the budget');
  });

  it('the connection dies right after the stop token: finished, nothing is re-asked', async () => {
    const server = await vllm((_request, res) => {
      startStream(res);
      res.write(vllmChunk([10, FRAME]));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const seq = await withPrompt(await open(server));
    assert.deepEqual(await seq.generate({ maxTokens: 9, stopTokenIds: [FRAME] }), { tokens: [10, FRAME], finishReason: 'stop' });
    assert.equal(completionRequests(server).length, 1);
  });

  it('a server that always dies: a clear error after the retries; what arrived stays, as in the engine', async () => {
    const server = await vllm((_request, res) => {
      startStream(res);
      res.write(vllmChunk([10]));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const seq = await withPrompt(await open(server, { retries: 2 }));
    const error = await rejection(seq.generate({ maxTokens: 9, stopTokenIds: [FRAME] }));
    assert.equal(error.code, 'connect');
    assert.ok(error.message.includes(`${server.url}/v1/completions`), error.message);
    assert.match(error.message, /gave up after 3 attempts/);
    assert.equal(completionRequests(server).length, 3);
    assert.deepEqual(seq.tokens(), [...PROMPT, 10, 10, 10]);
  });

  it('503 before any token: retried', async () => {
    const server = await vllm((_request, res, index) => {
      if (index === 1) return sendJson(res, 503, { error: { message: 'overloaded' } });
      startStream(res);
      res.write(vllmChunk([10, FRAME], { finish: 'stop', stopReason: FRAME }));
      res.end(DONE);
    });
    const seq = await withPrompt(await open(server));
    assert.deepEqual(await seq.generate({ maxTokens: 9, stopTokenIds: [FRAME] }), { tokens: [10, FRAME], finishReason: 'stop' });
    assert.equal(completionRequests(server).length, 2);
  });

  it('429 with Retry-After: waits as long as the server asked', async () => {
    const server = await vllm((_request, res, index) => {
      if (index === 1) return sendJson(res, 429, { error: { message: 'rate limited' } }, { 'retry-after': '1' });
      startStream(res);
      res.write(vllmChunk([FRAME], { finish: 'stop', stopReason: FRAME }));
      res.end(DONE);
    });
    const seq = await withPrompt(await open(server, { retryDelayMs: 1 }));
    const started = Date.now();
    await seq.generate({ maxTokens: 9, stopTokenIds: [FRAME] });
    const waited = Date.now() - started;
    assert.ok(waited >= 900 && waited < 5000, `waited ${waited} ms`);
  });

  it('a Retry-After longer than the client waits fails at once and says so', async () => {
    const server = await vllm((_request, res) => sendJson(res, 429, {}, { 'retry-after': '3600' }));
    const seq = await withPrompt(await open(server));
    const error = await rejection(seq.generate({ maxTokens: 9, stopTokenIds: [FRAME] }));
    assert.equal(error.code, 'http');
    assert.match(error.message, /3600 s.*try later/);
    assert.equal(completionRequests(server).length, 1);
  });

  it('400: the server\'s message as a bad-request error, the key removed from it', async () => {
    const server = await vllm((_request, res) => sendJson(res, 400, { object: 'error', message: `prompt too long (key ${API_KEY})`, type: 'BadRequestError', code: 400 }));
    const seq = await withPrompt(await open(server));
    const error = await rejection(seq.generate({ maxTokens: 9, stopTokenIds: [FRAME] }));
    assert.equal(error.code, 'bad-request');
    assert.match(error.message, /prompt too long \(key \*\*\*\)/);
    assert.equal(completionRequests(server).length, 1);
  });

  it('malformed JSON in an event: protocol error', async () => {
    const server = await vllm((_request, res) => {
      startStream(res);
      res.end('data: {"choices": [\n\n');
    });
    const seq = await withPrompt(await open(server));
    const error = await rejection(seq.generate({ maxTokens: 9, stopTokenIds: [FRAME] }));
    assert.equal(error.code, 'protocol');
    assert.match(error.message, /not JSON/);
  });

  it('a token id outside the vocabulary: protocol error naming the server and the id', async () => {
    const server = await vllm((_request, res) => {
      startStream(res);
      res.write(vllmChunk([10]));
      res.write(vllmChunk([999_999]));
      res.end(DONE);
    });
    const seq = await withPrompt(await open(server));
    const error = await rejection(seq.generate({ maxTokens: 9, stopTokenIds: [FRAME] }));
    assert.equal(error.code, 'protocol');
    assert.match(error.message, new RegExp(`^${server.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/v1/completions sent token id 999999, outside the vocabulary of \\d+ tokens`));
  });

  it('an answer that is not an event stream: protocol error', async () => {
    const server = await vllm((_request, res) => sendJson(res, 200, { choices: [] }));
    const seq = await withPrompt(await open(server));
    const error = await rejection(seq.generate({ maxTokens: 9, stopTokenIds: [FRAME] }));
    assert.equal(error.code, 'protocol');
    assert.match(error.message, /event stream/);
  });

  it('tokens spelled as text instead of token_id:N: protocol error with what to do', async () => {
    const server = await vllm((_request, res) => {
      startStream(res);
      res.write(`data: ${JSON.stringify({ choices: [{ index: 0, text: 'a', logprobs: { tokens: ['a'] }, finish_reason: null }] })}\n\n`);
      res.end(DONE);
    });
    const seq = await withPrompt(await open(server));
    const error = await rejection(seq.generate({ maxTokens: 9, stopTokenIds: [FRAME] }));
    assert.equal(error.code, 'protocol');
    assert.match(error.message, /return-tokens-as-token-ids/);
  });

  it('an error event in the stream: inference error with the server\'s message', async () => {
    const server = await vllm((_request, res) => {
      startStream(res);
      res.write(vllmChunk([10]));
      res.write(`data: ${JSON.stringify({ error: { message: 'CUDA out of memory', type: 'InternalServerError', code: 500 } })}\n\n`);
      res.end(DONE);
    });
    const seq = await withPrompt(await open(server));
    const error = await rejection(seq.generate({ maxTokens: 9, stopTokenIds: [FRAME] }));
    assert.equal(error.code, 'inference');
    assert.match(error.message, /CUDA out of memory/);
  });

  it('silence after the headers: idle timeout', async () => {
    const server = await vllm((_request, res) => {
      startStream(res);
      res.write(vllmChunk([10]));
    });
    const seq = await withPrompt(await open(server, { timeouts: { idleMs: 150 } }));
    const started = Date.now();
    const error = await rejection(seq.generate({ maxTokens: 9, stopTokenIds: [FRAME] }));
    assert.equal(error.code, 'timeout');
    assert.match(error.message, /went silent/);
    assert.ok(Date.now() - started < 2000);
  });

  it('keep-alive comments are not progress: a server that only sends them still times out', { timeout: 10_000 }, async () => {
    // One heartbeat per request: a timed-out attempt may be retried.
    const beats: NodeJS.Timeout[] = [];
    const server = await vllm((_request, res) => {
      startStream(res);
      res.write(vllmChunk([10]));
      const beat = setInterval(() => res.write(': busy\n\n'), 30);
      beats.push(beat);
      res.on('close', () => clearInterval(beat));
    });
    const seq = await withPrompt(await open(server, { timeouts: { idleMs: 200 } }));
    const started = Date.now();
    const error = await rejection(seq.generate({ maxTokens: 9, stopTokenIds: [FRAME] }));
    beats.forEach(clearInterval);
    assert.equal(error.code, 'timeout');
    assert.match(error.message, /went silent for/);
    assert.ok(Date.now() - started < 3000);
  });

  it('cancellation mid-stream: rejects at once with "cancelled" and drops the connection', async () => {
    let streamed!: Promise<void>;
    const server = await vllm((_request, res) => {
      streamed = (async () => {
        startStream(res);
        for (let i = 0; i < 200 && !res.destroyed; i++) {
          res.write(vllmChunk([10 + (i % 20)]));
          await delay(20);
        }
        res.end(DONE);
      })();
    });
    const seq = await withPrompt(await open(server));
    const controller = new AbortController();
    const seen: number[] = [];
    const generation = seq.generate({ maxTokens: 500, stopTokenIds: [FRAME], signal: controller.signal, onToken: (id) => seen.push(id) === 2 && controller.abort() });
    const error = await rejection(generation);
    assert.equal(error.code, 'cancelled');
    assert.equal(seen.length, 2);
    await server.waitForNoConnections();
    // The scripted server's own loop notices the dead connection and ends (its timers with it).
    await streamed;
  });

  it('close() rejects a generation in flight with "closed" and closes every socket', async () => {
    const server = await vllm((_request, res) => {
      startStream(res);
      res.write(vllmChunk([10]));
    });
    const backend = await open(server);
    const seq = await withPrompt(backend);
    const generation = seq.generate({ maxTokens: 9, stopTokenIds: [FRAME], onToken: () => void backend.close() });
    const error = await rejection(generation);
    assert.equal(error.code, 'closed');
    await server.waitForNoConnections();
    assert.equal((await rejection(seq.generate({ maxTokens: 1, stopTokenIds: [] }))).code, 'closed');
    assert.equal((await rejection(backend.createSequence([1]))).code, 'closed');
  });
});

describe('sequences held client-side', () => {
  it('append, truncate and fork cost no request; tokens are checked', async () => {
    const server = await vllm(() => undefined, 10);
    const backend = await open(server);
    const seq = await backend.createSequence([1, 2, 3]);
    const fork = await seq.fork();
    await seq.truncate(1);
    await seq.append([7]);
    assert.deepEqual(seq.tokens(), [1, 7]);
    assert.deepEqual(fork.tokens(), [1, 2, 3]);
    assert.equal(completionRequests(server).length, 0);
    assert.equal((await rejection(seq.append([tokenizer.size]))).code, 'bad-request');
    assert.equal((await rejection(seq.append(new Array(20).fill(1)))).code, 'context');
    assert.equal((await rejection((await backend.createSequence()).generate({ maxTokens: 1, stopTokenIds: [] }))).code, 'bad-request');
    seq.dispose();
    assert.equal((await rejection(seq.append([1]))).code, 'bad-request');
  });
});

describe('score over vLLM prompt log-probabilities', () => {
  /** A vLLM answer for `prompt`: position i > 0 gets the token itself at -1.5, and 99 as the top choice at -0.25. */
  function scoreAnswer(prompt: number[], withPromptLogprobs: boolean): unknown {
    const choice: Record<string, unknown> = {
      index: 0,
      text: '',
      finish_reason: 'length',
      stop_reason: null,
      logprobs: {
        tokens: [...prompt, 5].map((id) => `token_id:${id}`),
        token_logprobs: [null, ...prompt.slice(1).map(() => -1.5), -0.1],
        top_logprobs: [null, ...prompt.slice(1).map((id) => ({ [`token_id:${id}`]: -1.5, 'token_id:99': -0.25 })), { 'token_id:5': -0.1 }],
        text_offset: [...prompt, 5].map((_, i) => i),
      },
    };
    if (withPromptLogprobs) {
      choice.prompt_logprobs = [null, ...prompt.slice(1).map((id) => ({ [id]: { logprob: -1.5, rank: 4, decoded_token: 'x' }, 99: { logprob: -0.25, rank: 1, decoded_token: 'y' } }))];
    }
    return { id: 'cmpl-1', object: 'text_completion', created: 0, model: 'facebook/cwm', choices: [choice], usage: {} };
  }

  for (const withPromptLogprobs of [true, false]) {
    it(`maps each continuation token to its log-probability and the top alternative (${withPromptLogprobs ? 'prompt_logprobs' : 'echoed logprobs only'})`, async () => {
      const server = await vllm((request, res) => sendJson(res, 200, scoreAnswer(request.json?.prompt as number[], withPromptLogprobs)));
      const seq = await withPrompt(await open(server));
      const scores = await seq.score([30, 31], { append: true });
      assert.deepEqual(scores, [
        { tokenId: 30, logprob: -1.5, topTokenId: 99, topLogprob: -0.25 },
        { tokenId: 31, logprob: -1.5, topTokenId: 99, topLogprob: -0.25 },
      ]);
      assert.deepEqual(seq.tokens(), [...PROMPT, 30, 31]);
      const body = completionRequests(server)[0].json ?? {};
      assert.deepEqual(body.prompt, [...PROMPT, 30, 31]);
      assert.equal(body.echo, true);
      assert.equal(body.prompt_logprobs, 1);
      assert.equal(body.logprobs, 1);
      assert.equal(body.max_tokens, 1);
      assert.equal(body.return_tokens_as_token_ids, true);
      assert.notEqual(body.stream, true);
    });
  }

  it('without append the sequence is unchanged; a prompt that fills the context asks for no token', async () => {
    const server = await vllm((request, res) => sendJson(res, 200, scoreAnswer(request.json?.prompt as number[], true)), PROMPT.length + 1);
    const seq = await withPrompt(await open(server));
    await seq.score([30]);
    assert.deepEqual(seq.tokens(), PROMPT);
    assert.equal(completionRequests(server)[0].json?.max_tokens, 0);
  });

  it('an answer without prompt log-probabilities is a protocol error', async () => {
    const server = await vllm((_request, res) => sendJson(res, 200, { choices: [{ index: 0, text: 'x', finish_reason: 'length' }] }));
    const seq = await withPrompt(await open(server));
    assert.equal((await rejection(seq.score([30]))).code, 'protocol');
  });
});

describe('https', () => {
  const hasOpenssl = (() => {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  function selfSigned(): TlsMaterial {
    const dir = tempDir('remote-tls-');
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
      return { key: fs.readFileSync(key, 'utf8'), cert: fs.readFileSync(cert, 'utf8') };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  it('a self-signed server works with its certificate as ca, and is refused (with advice) without', { skip: hasOpenssl ? false : 'openssl is not installed' }, async () => {
    const tls = selfSigned();
    const server = await serve((_request, res) => sendJson(res, 200, vllmModels()), tls);
    const backend = await open(server, { ca: tls.cert });
    assert.equal(backend.info.device, server.url);
    const error = await rejection(open(server, { retries: 0 }));
    assert.equal(error.code, 'connect');
    assert.match(error.message, /not trusted.*"ca"/);
  });
});
