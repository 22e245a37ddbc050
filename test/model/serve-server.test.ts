/**
 * `neural-debug serve` over a deterministic backend, driven by the remote backend and by raw HTTP:
 * what comes over the wire equals what the backend itself computes, the prefix cache saves work,
 * requests queue, a hung-up client cancels its work, and bad input gets vLLM-style 4xx answers.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { GenerateOptions, ModelError, TokenScore } from '../../src/model/backend';
import { openRemoteBackend, RemoteBackend } from '../../src/model/remote';
import { SseParser } from '../../src/model/remote/sse';
import { RunningServer, ServeOptions, startServer } from '../../src/model/serve';
import { DeterministicBackend, DeterministicBackendOptions, FIXTURE_TOKENIZER } from '../helpers/deterministic-backend';
import { delay, rawRequest } from '../helpers/scripted-http';

interface Choice {
  text: string;
  finish_reason: string | null;
  stop_reason: number | string | null;
  token_ids?: number[];
  prompt_token_ids?: number[];
  logprobs: { tokens: string[]; token_logprobs: (number | null)[]; top_logprobs: (Record<string, number> | null)[]; text_offset: number[] } | null;
  prompt_logprobs?: (Record<string, { logprob: number; rank: number | null }> | null)[];
}
interface Completion {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: Choice[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}
interface ErrorAnswer {
  error: { message: string; type: string; code: number };
}

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  assert.deepEqual(
    process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout'),
    [],
    'a timer is still pending after the test',
  );
});

interface Setup {
  readonly backend: DeterministicBackend;
  readonly server: RunningServer;
}

async function setup(options: DeterministicBackendOptions = {}, serve: Partial<ServeOptions> = {}): Promise<Setup> {
  const backend = new DeterministicBackend(options);
  const server = await startServer({ backend, ...serve });
  cleanups.push(() => server.close());
  return { backend, server };
}

async function client(server: RunningServer, apiKey?: string): Promise<RemoteBackend> {
  const remote = await openRemoteBackend({ endpoint: server.url, retryDelayMs: 5, ...(apiKey ? { apiKey } : {}) });
  cleanups.unshift(() => remote.close());
  return remote;
}

/** A prompt of `n` ordinary tokens, the same for the same n. */
function promptOf(backend: DeterministicBackend, n: number, salt = 0): number[] {
  const regular = backend.regularTokens;
  return Array.from({ length: n }, (_, i) => regular[(i * 7 + salt) % regular.length]);
}

/** What the backend itself generates from `prompt` (on a sequence of its own). */
async function direct(backend: DeterministicBackend, prompt: number[], options: Omit<GenerateOptions, 'onToken' | 'signal'>): Promise<{ tokens: number[]; finishReason: string }> {
  const seq = await backend.createSequence(prompt);
  const result = await seq.generate(options);
  seq.dispose();
  return { tokens: [...result.tokens], finishReason: result.finishReason };
}

/** A streamed raw request: every event's JSON, in order, up to [DONE]. */
async function rawStream(url: string, body: unknown): Promise<Completion[]> {
  const answer = await rawRequest('POST', `${url}/v1/completions`, body);
  assert.equal(answer.status, 200, answer.text);
  assert.match(String(answer.headers['content-type']), /text\/event-stream/);
  const events = new SseParser().push(answer.text);
  assert.equal(events.at(-1), '[DONE]');
  return events.slice(0, -1).map((data) => JSON.parse(data) as Completion);
}

function errorOf(answer: { status: number; json: unknown }, status: number): ErrorAnswer['error'] {
  assert.equal(answer.status, status);
  const { error } = answer.json as ErrorAnswer;
  assert.equal(typeof error.message, 'string');
  assert.equal(typeof error.type, 'string');
  assert.equal(error.code, status);
  return error;
}

describe('what the server tells about its model', () => {
  it('/health, /v1/models (vLLM shape, owned_by neural-debug) and the model description with the tokenizer', async () => {
    const { backend, server } = await setup();
    assert.equal((await rawRequest('GET', `${server.url}/health`)).status, 200);
    const models = (await rawRequest('GET', `${server.url}/v1/models`)).json as { object: string; data: { id: string; object: string; owned_by: string; max_model_len: number }[] };
    assert.equal(models.object, 'list');
    assert.deepEqual(
      models.data.map((m) => [m.id, m.object, m.owned_by, m.max_model_len]),
      [[backend.info.name, 'model', 'neural-debug', backend.info.contextLength]],
    );
    const description = (await rawRequest('GET', `${server.url}/v1/neural-debug/model`)).json as Record<string, unknown>;
    assert.equal(description.name, backend.info.name);
    assert.equal(description.vocabSize, backend.info.vocabSize);
    assert.equal(description.contextLength, backend.info.contextLength);
    assert.deepEqual(description.specialTokens, backend.info.specialTokenIds);
    assert.deepEqual(description.eosTokenIds, backend.info.eosTokenIds);
    assert.deepEqual(description.tokenizer, JSON.parse(fs.readFileSync(FIXTURE_TOKENIZER, 'utf8')));
  });

  it('the remote backend opens against it with no local tokenizer and reports the same model', async () => {
    const { backend, server } = await setup();
    const remote = await client(server);
    assert.equal(remote.servedByNeuralDebug, true);
    assert.equal(remote.info.name, backend.info.name);
    assert.equal(remote.info.device, server.url);
    assert.equal(remote.info.vocabSize, backend.info.vocabSize);
    assert.equal(remote.info.contextLength, backend.info.contextLength);
    assert.deepEqual(remote.info.specialTokenIds, backend.info.specialTokenIds);
    assert.deepEqual(remote.info.eosTokenIds, backend.info.eosTokenIds);
    const text = 'def f(x):\n    return x  # <|frame_sep|> é\n';
    assert.deepEqual(remote.tokenizer.encodeText(text), backend.tokenizer.encodeText(text));
  });

  it('/tokenize and /detokenize: text encoded as text, BOS only when asked', async () => {
    const { backend, server } = await setup();
    const text = 'x = 1 <|frame_sep|>';
    const tokenized = (await rawRequest('POST', `${server.url}/tokenize`, { prompt: text })).json as { tokens: number[]; count: number; max_model_len: number };
    assert.deepEqual(tokenized.tokens, backend.tokenizer.encodeText(text));
    assert.equal(tokenized.count, tokenized.tokens.length);
    assert.equal(tokenized.max_model_len, backend.info.contextLength);
    const withBos = (await rawRequest('POST', `${server.url}/tokenize`, { prompt: text, add_special_tokens: true })).json as { tokens: number[] };
    assert.deepEqual(withBos.tokens, [backend.tokenizer.special('<|begin_of_text|>'), ...tokenized.tokens]);
    const detokenized = (await rawRequest('POST', `${server.url}/detokenize`, { tokens: withBos.tokens })).json as { prompt: string };
    assert.equal(detokenized.prompt, `<|begin_of_text|>${text}`);
  });
});

describe('generation over the wire equals the backend\'s own', () => {
  const FRAME_OF = (b: DeterministicBackend): number => b.tokenizer.special('<|frame_sep|>');
  const EOS_OF = (b: DeterministicBackend): number => b.tokenizer.special('<|end_of_text|>');

  it('through the remote backend: stop tokens, length, EOS and seeded sampling', async () => {
    const { backend, server } = await setup({ eosAt: 60 });
    const remote = await client(server);
    const frame = FRAME_OF(backend);
    const eos = EOS_OF(backend);
    const cases: { prompt: number[]; options: Omit<GenerateOptions, 'onToken' | 'signal'>; finish: string }[] = [
      { prompt: promptOf(backend, 20), options: { maxTokens: 50, stopTokenIds: [frame] }, finish: 'stop' },
      { prompt: promptOf(backend, 20, 3), options: { maxTokens: 2, stopTokenIds: [frame] }, finish: 'length' },
      { prompt: promptOf(backend, 50, 5), options: { maxTokens: 40, stopTokenIds: [eos] }, finish: 'stop' },
      { prompt: promptOf(backend, 30, 1), options: { maxTokens: 30, stopTokenIds: [], temperature: 0.8, topP: 0.9, seed: 42 }, finish: 'length' },
    ];
    for (const { prompt, options, finish } of cases) {
      const expected = await direct(backend, prompt, options);
      assert.equal(expected.finishReason, finish);
      const seq = await remote.createSequence(prompt);
      const streamed: number[] = [];
      const result = await seq.generate({ ...options, onToken: (id) => streamed.push(id) });
      assert.deepEqual({ tokens: [...result.tokens], finishReason: result.finishReason }, expected);
      assert.deepEqual(streamed, expected.tokens);
      assert.deepEqual(seq.tokens(), [...prompt, ...expected.tokens]);
    }
  });

  it('the context running out is reported as "context", as the engine does', async () => {
    const { backend, server } = await setup({ contextLength: 40, frameEvery: 1000 });
    const remote = await client(server);
    const seq = await remote.createSequence(promptOf(backend, 35));
    const result = await seq.generate({ maxTokens: 20, stopTokenIds: [] });
    assert.equal(result.finishReason, 'context');
    assert.equal(seq.length, 40);
  });

  it('raw requests, streamed and not: the same token_ids and text; the stop token in token_ids, not in the text', async () => {
    const { backend, server } = await setup();
    const frame = FRAME_OF(backend);
    // A prompt whose answer holds a two-byte character, cut between two tokens.
    let prompt: number[] = [];
    let expected = { tokens: [] as number[], finishReason: '' };
    for (let salt = 0; salt < 50 && !expected.tokens.includes(backend.regularTokens.at(-2) as number); salt++) {
      prompt = promptOf(backend, 13, salt);
      expected = await direct(backend, prompt, { maxTokens: 100, stopTokenIds: [frame] });
    }
    assert.equal(expected.tokens.at(-1), frame);
    const body = { prompt, max_tokens: 100, temperature: 0, stop_token_ids: [frame], return_token_ids: true, skip_special_tokens: false, spaces_between_special_tokens: false };

    const whole = (await rawRequest('POST', `${server.url}/v1/completions`, body)).json as Completion;
    assert.equal(whole.object, 'text_completion');
    assert.match(whole.id, /^cmpl-/);
    assert.equal(whole.model, backend.info.name);
    const [choice] = whole.choices;
    assert.deepEqual(choice.token_ids, expected.tokens);
    assert.deepEqual(choice.prompt_token_ids, prompt);
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(choice.stop_reason, frame);
    const expectedText = backend.tokenizer.decode(expected.tokens.slice(0, -1));
    assert.equal(choice.text, expectedText);
    assert.ok(expectedText.includes('é'), 'the answer holds a two-byte character');
    assert.deepEqual(whole.usage, { prompt_tokens: prompt.length, completion_tokens: expected.tokens.length, total_tokens: prompt.length + expected.tokens.length });

    const chunks = await rawStream(server.url, { ...body, stream: true, stream_options: { include_usage: true } });
    const streamedText = chunks.map((c) => c.choices[0]?.text ?? '').join('');
    assert.equal(streamedText, expectedText, 'no character is split or lost across chunks');
    assert.ok(!streamedText.includes('\uFFFD'));
    assert.deepEqual(chunks.flatMap((c) => c.choices[0]?.token_ids ?? []), expected.tokens);
    const finals = chunks.filter((c) => c.choices[0]?.finish_reason);
    assert.equal(finals.length, 1);
    assert.equal(finals[0].choices[0].stop_reason, frame);
    assert.deepEqual(chunks.at(-1)?.usage, whole.usage);
  });

  it('EOS (not among stop_token_ids) stops with stop_reason null; ignore_eos goes on; skip_special_tokens drops specials', async () => {
    const { backend, server } = await setup({ eosAt: 30, frameEvery: 1000 });
    const eos = EOS_OF(backend);
    const prompt = promptOf(backend, 25);
    const stopped = ((await rawRequest('POST', `${server.url}/v1/completions`, { prompt, max_tokens: 20, temperature: 0, return_token_ids: true })).json as Completion).choices[0];
    assert.equal(stopped.finish_reason, 'stop');
    assert.equal(stopped.stop_reason, null);
    assert.equal(stopped.token_ids?.at(-1), eos);
    assert.ok(!stopped.text.includes('<|end_of_text|>'));
    const onward = ((await rawRequest('POST', `${server.url}/v1/completions`, { prompt, max_tokens: 8, temperature: 0, ignore_eos: true, return_token_ids: true })).json as Completion).choices[0];
    assert.equal(onward.finish_reason, 'length');
    const tokens = (await direct(backend, prompt, { maxTokens: 8, stopTokenIds: [] })).tokens;
    assert.deepEqual(onward.token_ids, tokens);
    assert.deepEqual(tokens.slice(-3), [eos, eos, eos]);
    const regular = tokens.filter((id) => id !== eos);
    assert.equal(onward.text, backend.tokenizer.decode(regular), 'special tokens are skipped by default, as in vLLM');
    const spelled = ((await rawRequest('POST', `${server.url}/v1/completions`, { prompt: promptOf(backend, 30), max_tokens: 2, temperature: 0, ignore_eos: true, skip_special_tokens: false, spaces_between_special_tokens: false })).json as Completion).choices[0];
    assert.equal(spelled.text, '<|end_of_text|><|end_of_text|>');
    const spaced = ((await rawRequest('POST', `${server.url}/v1/completions`, { prompt: promptOf(backend, 30), max_tokens: 2, temperature: 0, ignore_eos: true, skip_special_tokens: false })).json as Completion).choices[0];
    assert.equal(spaced.text, '<|end_of_text|> <|end_of_text|>', 'spaces_between_special_tokens defaults to true, as in vLLM');
  });

  it('a text prompt is encoded as text (no BOS, special-token spellings stay text)', async () => {
    const { backend, server } = await setup();
    const text = 'abc <|frame_sep|>';
    const answer = ((await rawRequest('POST', `${server.url}/v1/completions`, { prompt: text, max_tokens: 3, temperature: 0, return_token_ids: true })).json as Completion).choices[0];
    assert.deepEqual(answer.prompt_token_ids, backend.tokenizer.encodeText(text));
    assert.deepEqual(answer.token_ids, (await direct(backend, backend.tokenizer.encodeText(text), { maxTokens: 3, stopTokenIds: backend.info.eosTokenIds })).tokens);
  });
});

describe('scoring over the wire equals the backend\'s own', () => {
  async function directScore(backend: DeterministicBackend, prefix: number[], continuation: number[]): Promise<TokenScore[]> {
    const seq = await backend.createSequence(prefix);
    const scores = await seq.score(continuation);
    seq.dispose();
    return scores;
  }

  it('through the remote backend, scoring only the continuation on the server', async () => {
    const { backend, server } = await setup();
    const remote = await client(server);
    const prefix = promptOf(backend, 80);
    // What the model would write, with one token changed: some positions agree with its choice, some not.
    const continuation = (await direct(backend, prefix, { maxTokens: 6, stopTokenIds: [] })).tokens;
    continuation[2] = continuation[2] === backend.regularTokens[0] ? backend.regularTokens[1] : backend.regularTokens[0];
    const expected = await directScore(backend, prefix, continuation);
    assert.ok(expected.some((s) => s.tokenId === s.topTokenId) && expected.some((s) => s.tokenId !== s.topTokenId), 'some tokens are the top choice, some not');
    const seq = await remote.createSequence(prefix);
    const scoredBefore = backend.stats.scored;
    const scores = await seq.score(continuation, { append: true });
    assert.deepEqual(scores, expected);
    assert.equal(backend.stats.scored - scoredBefore, continuation.length, 'the prefix was not scored');
    assert.deepEqual(seq.tokens(), [...prefix, ...continuation]);
  });

  it('a vLLM-style request (echo, logprobs, prompt_logprobs, token_id:N) gets vLLM-style answers', async () => {
    const { backend, server } = await setup();
    const prompt = promptOf(backend, 12);
    const expected = await directScore(backend, prompt.slice(0, 1), prompt.slice(1));
    const answer = (await rawRequest('POST', `${server.url}/v1/completions`, { prompt, max_tokens: 1, temperature: 0, echo: true, logprobs: 1, prompt_logprobs: 1, return_tokens_as_token_ids: true })).json as Completion;
    const [choice] = answer.choices;
    const promptLogprobs = choice.prompt_logprobs ?? [];
    assert.equal(promptLogprobs.length, prompt.length);
    assert.equal(promptLogprobs[0], null);
    expected.forEach((score, i) => {
      const entry = promptLogprobs[i + 1] ?? {};
      assert.equal(entry[score.tokenId].logprob, score.logprob);
      assert.equal(entry[score.topTokenId].logprob, score.topLogprob);
      assert.equal(entry[score.topTokenId].rank, 1);
    });
    const logprobs = choice.logprobs;
    assert.ok(logprobs);
    assert.deepEqual(logprobs.tokens.slice(0, prompt.length), prompt.map((id) => `token_id:${id}`));
    assert.equal(logprobs.token_logprobs[0], null);
    assert.deepEqual(logprobs.token_logprobs.slice(1, prompt.length), expected.map((s) => s.logprob));
    assert.deepEqual(logprobs.top_logprobs[1], { [`token_id:${expected[0].tokenId}`]: expected[0].logprob, [`token_id:${expected[0].topTokenId}`]: expected[0].topLogprob });
    assert.equal(logprobs.tokens.length, prompt.length + 1, 'echoed prompt and the one generated token');
    assert.ok(choice.text.startsWith(backend.tokenizer.decode(prompt)));
  });

  it('streamed logprobs of generated tokens equal teacher-forced scores', async () => {
    const { backend, server } = await setup();
    const prompt = promptOf(backend, 9);
    const generated = (await direct(backend, prompt, { maxTokens: 6, stopTokenIds: [] })).tokens;
    const expected = await directScore(backend, prompt, generated);
    const chunks = await rawStream(server.url, { prompt, max_tokens: 6, temperature: 0, logprobs: 1, stream: true, return_tokens_as_token_ids: true });
    const tokenChunks = chunks.filter((c) => c.choices[0].logprobs && c.choices[0].logprobs.tokens.length > 0);
    assert.deepEqual(tokenChunks.map((c) => c.choices[0].logprobs?.tokens[0]), generated.map((id) => `token_id:${id}`));
    assert.deepEqual(tokenChunks.map((c) => c.choices[0].logprobs?.token_logprobs[0]), expected.map((s) => s.logprob));
  });
});

describe('prefix caching', () => {
  it('re-sending a long prompt costs only its new tokens; a step back costs none', async () => {
    const { backend, server } = await setup({ frameEvery: 1000 });
    const remote = await client(server);
    const seq = await remote.createSequence(promptOf(backend, 150));
    let before = backend.stats.appended;
    await seq.generate({ maxTokens: 5, stopTokenIds: [] });
    assert.equal(backend.stats.appended - before, 150, 'the first request computes its prompt');

    before = backend.stats.appended;
    await seq.append(promptOf(backend, 3, 9));
    await seq.generate({ maxTokens: 5, stopTokenIds: [] });
    assert.equal(backend.stats.appended - before, 3, 'the next one only the three new tokens');

    before = backend.stats.appended;
    const forks = backend.stats.forks;
    await seq.truncate(150);
    const again = await seq.generate({ maxTokens: 5, stopTokenIds: [] });
    assert.equal(backend.stats.appended - before, 0, 'a step back reuses the cached prefix');
    assert.equal(backend.stats.forks - forks, 1, 'from a fork, so the longer cached branch survives');
    assert.deepEqual([...again.tokens], (await direct(backend, promptOf(backend, 150), { maxTokens: 5, stopTokenIds: [] })).tokens);
  });

  it('a counterfactual branch and the original both stay cached', async () => {
    const { backend, server } = await setup({ frameEvery: 1000 });
    const remote = await client(server);
    const base = await remote.createSequence(promptOf(backend, 100));
    await base.generate({ maxTokens: 3, stopTokenIds: [] });
    const branch = await base.fork();
    await branch.truncate(100);
    await branch.append(promptOf(backend, 4, 1));
    await branch.generate({ maxTokens: 3, stopTokenIds: [] });
    const before = backend.stats.appended;
    await base.generate({ maxTokens: 3, stopTokenIds: [] });
    await branch.generate({ maxTokens: 3, stopTokenIds: [] });
    assert.equal(backend.stats.appended - before, 0);
  });
});

describe('one request at a time', () => {
  it('concurrent requests queue; none runs beside another', async () => {
    const { backend, server } = await setup({ tokenDelayMs: 2, frameEvery: 1000 });
    const remote = await client(server);
    const results = await Promise.all(
      [0, 1, 2].map(async (salt) => {
        const seq = await remote.createSequence(promptOf(backend, 10, salt));
        return seq.generate({ maxTokens: 10, stopTokenIds: [] });
      }),
    );
    assert.equal(backend.stats.maxConcurrent, 1);
    assert.deepEqual(results.map((r) => r.tokens.length), [10, 10, 10]);
  });

  it('a client that hangs up cancels its generation and frees the queue', async () => {
    const { backend, server } = await setup({ tokenDelayMs: 20, frameEvery: 1000 });
    const prompt = promptOf(backend, 10);
    await new Promise<void>((resolve, reject) => {
      const req = http.request(`${server.url}/v1/completions`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (error) => (error.message.includes('socket hang up') || (error as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(error)));
      req.end(JSON.stringify({ prompt, max_tokens: 1000, stream: true, return_token_ids: true }));
    });
    const deadline = Date.now() + 2000;
    while (backend.stats.cancelled === 0 && Date.now() < deadline) await delay(10);
    assert.equal(backend.stats.cancelled, 1, 'the backend saw the cancellation');
    assert.ok(backend.stats.generated < 100);
    const started = Date.now();
    const answer = await rawRequest('POST', `${server.url}/v1/completions`, { prompt, max_tokens: 2 });
    assert.equal(answer.status, 200);
    assert.ok(Date.now() - started < 3000, 'the next request did not wait for the abandoned one (which had 20 s of work left)');
  });

  it('cancelling through the remote backend cancels on the server too', async () => {
    const { backend, server } = await setup({ tokenDelayMs: 20, frameEvery: 1000 });
    const remote = await client(server);
    const seq = await remote.createSequence(promptOf(backend, 10));
    const controller = new AbortController();
    let seen = 0;
    await assert.rejects(
      seq.generate({ maxTokens: 1000, stopTokenIds: [], signal: controller.signal, onToken: () => ++seen === 3 && controller.abort() }),
      (error: ModelError) => error.code === 'cancelled',
    );
    const deadline = Date.now() + 2000;
    while (backend.stats.cancelled === 0 && Date.now() < deadline) await delay(10);
    assert.equal(backend.stats.cancelled, 1);
  });
});

describe('bad requests get vLLM-style errors, and the server lives on', () => {
  it('400 for bad JSON, a missing prompt, unknown token ids, a prompt over the context, n > 1, stop strings', async () => {
    const { backend, server } = await setup({ contextLength: 64 });
    const url = `${server.url}/v1/completions`;
    assert.match(errorOf(await rawRequest('POST', url, '{"prompt": [1, 2'), 400).message, /not valid JSON/);
    assert.match(errorOf(await rawRequest('POST', url, { max_tokens: 3 }), 400).message, /prompt/);
    assert.match(errorOf(await rawRequest('POST', url, { prompt: [1, 99999] }), 400).message, /token id 99999 .* out of vocabulary/);
    assert.match(errorOf(await rawRequest('POST', url, { prompt: [1, -1] }), 400).message, /not a token id/);
    assert.match(errorOf(await rawRequest('POST', url, { prompt: promptOf(backend, 64), max_tokens: 1 }), 400).message, /maximum context length is 64/);
    // A text far over the context is refused from its length alone, before it is encoded (the message
    // after encoding would count its tokens exactly).
    const huge = 'x = 1\n'.repeat(2_000_000);
    assert.match(errorOf(await rawRequest('POST', url, { prompt: huge, max_tokens: 1 }), 400).message, /maximum context length is 64 tokens\. However, your prompt has at least \d+ tokens \(12000000 characters\)/);
    assert.match(errorOf(await rawRequest('POST', url, { prompt: [1], n: 2 }), 400).message, /`n`/);
    assert.match(errorOf(await rawRequest('POST', url, { prompt: [1], stop: ['\n'] }), 400).message, /stop_token_ids/);
    assert.match(errorOf(await rawRequest('POST', url, { prompt: [1], logprobs: 5 }), 400).message, /0 or 1/);
    assert.match(errorOf(await rawRequest('POST', url, { prompt: [1], temperature: 'hot' }), 400).message, /temperature/);
    assert.match(errorOf(await rawRequest('POST', url, { prompt: [1], max_tokens: 0 }), 400).message, /max_tokens/);
    assert.match(errorOf(await rawRequest('POST', url, [1, 2]), 400).message, /JSON object/);
    assert.match(errorOf(await rawRequest('POST', url, { prompt: [[1, 2], [3]] }), 400).message, /one prompt per request/);
    assert.match(errorOf(await rawRequest('POST', url, { prompt: [1], stream_options: { include_usage: true } }), 400).message, /stream=True/);
    assert.match(errorOf(await rawRequest('POST', url, { prompt: [1], stream: true, prompt_logprobs: 1 }), 400).message, /prompt_logprobs/);
    assert.match(errorOf(await rawRequest('POST', url, { prompt: [1], top_k: 5 }), 400).message, /top_k/);
    assert.match(errorOf(await rawRequest('POST', url, { prompt: '' }), 400).message, /empty/);
    assert.match(errorOf(await rawRequest('POST', url, 'null'), 400).message, /JSON object/);
    assert.equal(errorOf(await rawRequest('POST', url, { prompt: [1], model: 'gpt-4' }), 404).type, 'NotFoundError');
    assert.equal((await rawRequest('GET', `${server.url}/health`)).status, 200);
  });

  it('404 for an unknown path, 405 for a wrong method', async () => {
    const { server } = await setup();
    assert.equal(errorOf(await rawRequest('GET', `${server.url}/v1/chat/completions`), 404).type, 'NotFoundError');
    errorOf(await rawRequest('GET', `${server.url}/v1/completions`), 405);
  });

  it('413 for a body over the limit', async () => {
    const { backend, server } = await setup({}, { maxBodyBytes: 1024 });
    const error = errorOf(await rawRequest('POST', `${server.url}/v1/completions`, { prompt: promptOf(backend, 400) }), 413);
    assert.match(error.message, /larger than 1024 bytes/);
    assert.equal((await rawRequest('GET', `${server.url}/health`)).status, 200);
  });

  it('401 without the right bearer token; /health stays open; the remote backend with the key works; no key in the log', async () => {
    const log: string[] = [];
    const { server } = await setup({}, { apiKey: 'sk-serve-123456', log: (line) => log.push(line) });
    assert.equal(errorOf(await rawRequest('GET', `${server.url}/v1/models`), 401).type, 'AuthenticationError');
    errorOf(await rawRequest('GET', `${server.url}/v1/models`, undefined, { authorization: 'Bearer wrong' }), 401);
    assert.equal((await rawRequest('GET', `${server.url}/v1/models`, undefined, { authorization: 'Bearer sk-serve-123456' })).status, 200);
    assert.equal((await rawRequest('GET', `${server.url}/health`)).status, 200);
    const remote = await client(server, 'sk-serve-123456');
    const seq = await remote.createSequence([1, 2, 3]);
    assert.equal((await seq.generate({ maxTokens: 2, stopTokenIds: [] })).tokens.length, 2);
    await assert.rejects(openRemoteBackend({ endpoint: server.url, apiKey: 'sk-wrong-000' }), (error: ModelError) => error.code === 'auth' && !error.message.includes('sk-wrong-000'));
    assert.ok(log.some((line) => /^GET \/v1\/models 401 /.test(line)), log.join('\n'));
    assert.ok(log.some((line) => /^POST \/v1\/completions 200 /.test(line)));
    assert.ok(log.every((line) => !line.includes('sk-serve-123456') && !line.includes('sk-wrong-000')));
  });

  it('a request that is not HTTP gets a 400 and the connection closes; the server keeps serving', async () => {
    const { server } = await setup();
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(server.port, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    assert.match(reply, /^HTTP\/1\.1 400/);
    assert.equal((await rawRequest('GET', `${server.url}/health`)).status, 200);
  });

  it('close() does not wait for a client that never finishes sending its body', async () => {
    const { server } = await setup();
    const socket = net.connect(server.port, '127.0.0.1');
    const closedSocket = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('POST /v1/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"prompt": [1,');
    await delay(50);
    const started = Date.now();
    await server.close();
    await closedSocket;
    assert.ok(Date.now() - started < 4000, `close took ${Date.now() - started} ms`);
  });

  it('close() ends a generation in flight and every connection', async () => {
    const { backend, server } = await setup({ tokenDelayMs: 20, frameEvery: 1000 });
    const remote = await client(server);
    const seq = await remote.createSequence(promptOf(backend, 10));
    let seen = 0;
    const generation = seq.generate({ maxTokens: 1000, stopTokenIds: [], onToken: () => ++seen === 2 && void server.close() });
    await assert.rejects(generation, (error: ModelError) => error.code === 'inference' && /shutting down/.test(error.message));
    assert.equal(backend.stats.cancelled, 1);
    await assert.rejects(rawRequest('GET', `${server.url}/health`), /ECONNREFUSED/);
  });
});
