/** The remote backend's pure parts: SSE parsing, endpoint normalisation, Retry-After, answer reading. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { readPromptLogprobs, readStreamChunk, topOf } from '../../src/model/remote/completion-wire';
import { apiUrl, parseEndpoint, redact } from '../../src/model/remote/endpoint';
import { backoffDelay, DEFAULT_RETRY_POLICY, parseRetryAfter } from '../../src/model/remote/retry';
import { SseError, SseParser } from '../../src/model/remote/sse';

function parseAll(pieces: readonly string[]): string[] {
  const parser = new SseParser();
  return pieces.flatMap((piece) => parser.push(piece));
}

describe('SseParser', () => {
  const stream = ': keep-alive\r\ndata: {"a":1}\r\n\r\ndata:first\ndata: second\n\nevent: ping\nid: 7\nretry: 10\ndata: x\r\rdata: [DONE]\n\n';
  const expected = ['{"a":1}', 'first\nsecond', 'x', '[DONE]'];

  it('reads data lines, joins multi-line data, skips comments and other fields, accepts CRLF, LF and CR', () => {
    assert.deepEqual(parseAll([stream]), expected);
  });

  it('gives the same events however the text is cut, including between CR and LF', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      assert.deepEqual(parseAll([stream.slice(0, cut), stream.slice(cut)]), expected, `cut at ${cut}`);
    }
    assert.deepEqual(parseAll([...stream]), expected, 'one character at a time');
  });

  it('drops an event the stream never finished, and says so', () => {
    const parser = new SseParser();
    assert.deepEqual(parser.push('data: 1\n\ndata: 2\n'), ['1']);
    assert.equal(parser.end().unterminated, true);
    const clean = new SseParser();
    clean.push('data: 1\n\n');
    assert.equal(clean.end().unterminated, false);
  });

  it('a line without a colon is a field with an empty value; "data" alone is an empty data line', () => {
    assert.deepEqual(parseAll(['data\n\nfoo\n\n']), ['']);
  });

  it('refuses an event larger than its limit', () => {
    const parser = new SseParser(16);
    assert.throws(() => parser.push(`data: ${'x'.repeat(32)}`), SseError);
  });
});

describe('parseEndpoint', () => {
  it('normalises a trailing slash and /v1, and keeps a path prefix', () => {
    for (const text of ['http://h:8000', 'http://h:8000/', 'http://h:8000/v1', 'http://h:8000/v1/']) {
      assert.equal(parseEndpoint(text).display, 'http://h:8000');
    }
    const behindProxy = parseEndpoint('https://host/models/cwm/v1');
    assert.equal(behindProxy.display, 'https://host/models/cwm');
    assert.equal(apiUrl(behindProxy, '/v1/completions').href, 'https://host/models/cwm/v1/completions');
    assert.equal(apiUrl(parseEndpoint('http://h:1/'), '/tokenize').href, 'http://h:1/tokenize');
  });

  it('takes credentials out of what is shown', () => {
    const endpoint = parseEndpoint('https://alice:s3cret@host:9/v1?x=1');
    assert.equal(endpoint.display, 'https://host:9');
    assert.equal(endpoint.basicAuth, 'alice:s3cret');
  });

  it('refuses what is not an http(s) URL, without echoing credentials', () => {
    assert.throws(() => parseEndpoint('ftp://h'), /http:\/\/ or https:\/\//);
    assert.throws(
      () => parseEndpoint('http//bob:pw@host'),
      (error: Error) => !error.message.includes('pw@') && /not a URL/.test(error.message),
    );
  });

  it('redact replaces every occurrence of a secret', () => {
    assert.equal(redact('key sk-abcdef and sk-abcdef', ['sk-abcdef', undefined]), 'key *** and ***');
  });
});

describe('retry timing', () => {
  it('Retry-After in seconds or as an HTTP date', () => {
    assert.equal(parseRetryAfter('2'), 2000);
    assert.equal(parseRetryAfter(new Date(10_000 + 3000).toUTCString(), 10_000), 3000);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(undefined), undefined);
  });

  it('backoff doubles, stays within its cap and has jitter', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1000 };
    assert.equal(backoffDelay(policy, 0, () => 0), 50);
    assert.equal(backoffDelay(policy, 0, () => 1), 100);
    assert.equal(backoffDelay(policy, 2, () => 1), 400);
    assert.equal(backoffDelay(policy, 10, () => 1), 1000);
  });
});

describe('reading completion answers', () => {
  it('token ids from token_ids, or from logprobs spelled token_id:N', () => {
    assert.deepEqual(readStreamChunk({ choices: [{ text: 'ab', token_ids: [1, 2], finish_reason: null }] }), { kind: 'piece', tokenIds: [1, 2], finishReason: null, stopReason: null });
    assert.deepEqual(readStreamChunk({ choices: [{ text: 'a', logprobs: { tokens: ['token_id:5'] }, finish_reason: 'stop', stop_reason: 9 }] }), {
      kind: 'piece',
      tokenIds: [5],
      finishReason: 'stop',
      stopReason: 9,
    });
  });

  it('text without ids, decoded token strings, errors and broken shapes are told apart', () => {
    const noIds = readStreamChunk({ choices: [{ text: 'abc', finish_reason: null }] });
    assert.equal(noIds.kind, 'invalid');
    const decoded = readStreamChunk({ choices: [{ text: 'a', logprobs: { tokens: ['a'] } }] });
    assert.ok(decoded.kind === 'invalid' && /return_tokens_as_token_ids/.test(decoded.reason));
    assert.deepEqual(readStreamChunk({ error: { message: 'boom' } }), { kind: 'error', message: 'boom' });
    assert.equal(readStreamChunk({ nothing: true }).kind, 'invalid');
    assert.equal(readStreamChunk([]).kind, 'invalid');
    assert.deepEqual(readStreamChunk({ choices: [], usage: {} }), { kind: 'piece', tokenIds: [], finishReason: null, stopReason: null });
  });

  it('prompt log-probabilities from prompt_logprobs or from echoed logprobs', () => {
    const fromPrompt = readPromptLogprobs({ choices: [{ prompt_logprobs: [null, { '7': { logprob: -1, rank: 2 }, '8': { logprob: -0.5, rank: 1 } }] }] }, 2);
    assert.ok(Array.isArray(fromPrompt));
    assert.equal(fromPrompt[0], null);
    assert.deepEqual(topOf(fromPrompt[1] as ReadonlyMap<number, number>), { id: 8, logprob: -0.5 });
    const fromEcho = readPromptLogprobs(
      { choices: [{ logprobs: { tokens: ['token_id:3', 'token_id:7'], token_logprobs: [null, -1], top_logprobs: [null, { 'token_id:7': -1, 'token_id:8': -0.5 }] } }] },
      2,
    );
    assert.deepEqual(fromEcho, fromPrompt.map((m) => m && new Map([...m])));
    assert.equal(typeof readPromptLogprobs({ choices: [{ text: '' }] }, 2), 'string');
    assert.equal(typeof readPromptLogprobs({ choices: [{ prompt_logprobs: [null] }] }, 2), 'string');
  });

  it('ties for the top choice go to the lowest id', () => {
    assert.deepEqual(topOf(new Map([[9, -1], [4, -1], [6, -2]])), { id: 4, logprob: -1 });
  });
});
