#!/usr/bin/python3
"""Builds the tiny random-weight decoder fixtures under test/fixtures/models/.

Three model folders share one set of weights and one tokenizer:

  tiny-cwm/        fp32 graph with a `position_ids` input
  tiny-cwm-nopos/  fp32 graph that derives query positions from `attention_mask`
  tiny-cwm-fp16/   like tiny-cwm, but float16 KV cache and logits at the graph boundary

and reference.json holds outputs of an independent float64 numpy implementation of the same network
(whole-sequence recompute, no KV cache), for the TypeScript runtime's tests to compare against.

Everything is derived from SEED; running the script again rewrites byte-identical files.
Needs Debian's python3-numpy and python3-onnx:  /usr/bin/python3 kernels/build_test_models.py
`--check` builds everything in memory and exits 1 if a file on disk differs (nothing is written).
"""
import json
import os
import sys

import numpy as np

from cwm_onnx import Shape, build_graph, compact_json, model_config
from cwm_tokenizer import ADDED_TOKENS, bpe_encode, build_vocab, tokenizer_json, train_bpe

# Picked by scanning seeds: with it every argmax the reference records (greedy steps and all three
# sequences) leads the runner-up by at least 0.08, far above float16's ~1e-2 error.
SEED = 106
MIN_MARGIN = 0.05

# ---------------------------------------------------------------------------------------------------
# Model shape (CWM in miniature: Llama-style, GQA, SwiGLU, RMSNorm, RoPE, local/global layers).
HIDDEN = 64
NUM_LAYERS = 2
NUM_HEADS = 4
NUM_KV_HEADS = 2
HEAD_DIM = 16
FFN = 128
RMS_EPS = 1e-5
ROPE_THETA = 10000.0
WINDOWS = [16, None]  # per layer: a key is visible when p - window < k <= p; None = global (k <= p)
CONTEXT_LENGTH = 16384
SHAPE = Shape(HIDDEN, NUM_LAYERS, NUM_HEADS, NUM_KV_HEADS, HEAD_DIM, FFN, RMS_EPS, ROPE_THETA, WINDOWS, CONTEXT_LENGTH)

NUM_MERGES = 200

# Text the BPE merges are learned from: ordinary Python, and CWM trace fragments (locals as JSON).
TRAINING_TEXT = '''\
def sum_list(xs):
    total = 0
    for x in xs:
        total += x
    return total

def main():  # << START_OF_TRACE
    return sum_list([1, 2, 3])

def factorial(n):
    if n <= 1:
        return 1
    return n * factorial(n - 1)

def fibonacci(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a

def count_words(text):
    counts = {}
    for word in text.split():
        word = word.lower()
        counts[word] = counts.get(word, 0) + 1
    return counts

def reverse_string(s):
    result = ''
    for ch in s:
        result = ch + result
    return result

def is_prime(n):
    if n < 2:
        return False
    for d in range(2, int(n ** 0.5) + 1):
        if n % d == 0:
            return False
    return True

def find_max(values):
    best = None
    for value in values:
        if best is None or value > best:
            best = value
    return best

class Stack:
    def __init__(self):
        self.items = []

    def push(self, item):
        self.items.append(item)

    def pop(self):
        if not self.items:
            raise IndexError('pop from an empty stack')
        return self.items.pop()

    def __len__(self):
        return len(self.items)

def safe_divide(a, b):
    try:
        return a / b
    except ZeroDivisionError as error:
        print('cannot divide:', error)
        return None

def flatten(nested):
    out = []
    for item in nested:
        if isinstance(item, list):
            out.extend(flatten(item))
        else:
            out.append(item)
    return out

def merge_sorted(left, right):
    i = j = 0
    merged = []
    while i < len(left) and j < len(right):
        if left[i] <= right[j]:
            merged.append(left[i])
            i += 1
        else:
            merged.append(right[j])
            j += 1
    merged.extend(left[i:])
    merged.extend(right[j:])
    return merged

def f(s):
    return ''.join(sorted(set(s)))

def main():  # << START_OF_TRACE
    return f('hello world')

{"xs": "[1, 2, 3]"}
{"xs": "..", "total": "0"}
{"xs": "..", "total": "..", "x": "1"}
{"xs": "..", "total": "1", "x": ".."}
{"n": "5"}
{"n": "..", "a": "0", "b": "1"}
{"text": "'a b a'", "counts": "{}"}
{"text": "..", "counts": "{'a': 1}", "word": "'a'"}
{"s": "'abc'", "result": "''"}
{"s": "..", "result": "'a'", "ch": "'a'"}
{"values": "[3, 1, 4, 1, 5]", "best": "None"}
{"self": "<Stack object>", "item": "42"}
"6"
"None"
"True"
"False"
'''


# ---------------------------------------------------------------------------------------------------
# Weights. Drawn in float64, then rounded to float16: the ONNX files store float16 initializers (half the
# size) and cast them to float32 once; the numpy reference uses the very same rounded values.

def make_weights(vocab_size, tokenizer_size):
    rng = np.random.default_rng([SEED, 1])

    def normal(shape, scale):
        return (rng.standard_normal(shape) * scale).astype(np.float16)

    def norm_weight():
        return (1.0 + 0.1 * rng.standard_normal(HIDDEN)).astype(np.float16)

    weights = {'embed': normal((vocab_size, HIDDEN), 1.0)}
    for layer in range(NUM_LAYERS):
        p = f'layers.{layer}.'
        weights[p + 'attn_norm'] = norm_weight()
        weights[p + 'q'] = normal((HIDDEN, NUM_HEADS * HEAD_DIM), 1.6 / np.sqrt(HIDDEN))
        weights[p + 'k'] = normal((HIDDEN, NUM_KV_HEADS * HEAD_DIM), 1.6 / np.sqrt(HIDDEN))
        weights[p + 'v'] = normal((HIDDEN, NUM_KV_HEADS * HEAD_DIM), 1.0 / np.sqrt(HIDDEN))
        weights[p + 'o'] = normal((NUM_HEADS * HEAD_DIM, HIDDEN), 2.0 / np.sqrt(NUM_HEADS * HEAD_DIM))
        weights[p + 'ffn_norm'] = norm_weight()
        weights[p + 'gate'] = normal((HIDDEN, FFN), 1.0 / np.sqrt(HIDDEN))
        weights[p + 'up'] = normal((HIDDEN, FFN), 1.0 / np.sqrt(HIDDEN))
        weights[p + 'down'] = normal((FFN, HIDDEN), 1.5 / np.sqrt(FFN))
    weights['final_norm'] = norm_weight()
    head = normal((HIDDEN, vocab_size), 3.0 / np.sqrt(HIDDEN))
    # Ids past the tokenizer are padding of the logits' width: give them a logit of exactly 0, far below
    # the top of the ~N(0, 3^2) real logits, so greedy decoding never picks one.
    head[:, tokenizer_size:] = 0
    weights['lm_head'] = head
    return weights


# ---------------------------------------------------------------------------------------------------
# Independent reference: float64 numpy, whole sequence at once, positions 0..n-1, no cache.

def ref_rms_norm(x, weight):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + RMS_EPS) * weight


def ref_rotary(x, positions):
    """x [heads, n, HEAD_DIM]; HF Llama's rotate-half rotary embedding."""
    half = HEAD_DIM // 2
    inv_freq = 1.0 / ROPE_THETA ** (np.arange(0, HEAD_DIM, 2, dtype=np.float64) / HEAD_DIM)
    angles = positions[:, None].astype(np.float64) * inv_freq[None, :]  # [n, half]
    cos = np.cos(np.concatenate([angles, angles], axis=-1))
    sin = np.sin(np.concatenate([angles, angles], axis=-1))
    rotated = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    return x * cos + rotated * sin


def ref_logits(w, tokens):
    """Logits [n, V] for every position of a token sequence."""
    w = {name: value.astype(np.float64) for name, value in w.items()}
    n = len(tokens)
    positions = np.arange(n)
    x = w['embed'][np.asarray(tokens)]
    group = NUM_HEADS // NUM_KV_HEADS
    for layer in range(NUM_LAYERS):
        p = f'layers.{layer}.'
        h = ref_rms_norm(x, w[p + 'attn_norm'])
        q = ref_rotary((h @ w[p + 'q']).reshape(n, NUM_HEADS, HEAD_DIM).transpose(1, 0, 2), positions)
        k = ref_rotary((h @ w[p + 'k']).reshape(n, NUM_KV_HEADS, HEAD_DIM).transpose(1, 0, 2), positions)
        v = (h @ w[p + 'v']).reshape(n, NUM_KV_HEADS, HEAD_DIM).transpose(1, 0, 2)
        query_pos = positions[:, None]
        key_pos = positions[None, :]
        visible = key_pos <= query_pos
        if WINDOWS[layer] is not None:
            visible &= key_pos > query_pos - WINDOWS[layer]
        heads = []
        for head in range(NUM_HEADS):
            kv = head // group
            scores = q[head] @ k[kv].T / np.sqrt(HEAD_DIM)
            scores = np.where(visible, scores, -np.inf)
            scores = scores - scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            heads.append(probs @ v[kv])
        x = x + np.concatenate(heads, axis=-1) @ w[p + 'o']
        h = ref_rms_norm(x, w[p + 'ffn_norm'])
        gate = h @ w[p + 'gate']
        x = x + (gate / (1.0 + np.exp(-gate)) * (h @ w[p + 'up'])) @ w[p + 'down']
    return ref_rms_norm(x, w['final_norm']) @ w['lm_head']


def log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def greedy(w, prompt, steps):
    tokens = list(prompt)
    margins = []
    for _ in range(steps):
        last = ref_logits(w, tokens)[-1]
        choice = int(np.argmax(last))  # first maximum: ties go to the lowest id
        top_two = np.sort(last)[-2:]
        margins.append(float(top_two[1] - top_two[0]))
        tokens.append(choice)
    return tokens[len(prompt):], margins


# ---------------------------------------------------------------------------------------------------
# Files

def top_margins(logits):
    """How far each row's largest logit leads the second largest."""
    ordered = np.sort(logits, axis=-1)
    return ordered[..., -1] - ordered[..., -2]


def sequence_record(w, name, tokens):
    logits = ref_logits(w, tokens)
    logprobs = log_softmax(logits[:-1])
    record = {
        'name': name,
        'tokens': [int(t) for t in tokens],
        'lastLogits': [[round(float(v), 7) for v in row] for row in logits[-4:]],
        'logprobs': [round(float(logprobs[i - 1, tokens[i]]), 7) for i in range(1, len(tokens))],
        'argmax': [int(np.argmax(logits[i - 1])) for i in range(1, len(tokens))],
    }
    return record, float(top_margins(logits[:-1]).min())


def build():
    merges = train_bpe(TRAINING_TEXT, NUM_MERGES)
    vocab = build_vocab(merges)
    tokenizer = tokenizer_json(vocab, merges)
    tokenizer_size = len(vocab) + len(ADDED_TOKENS)
    vocab_size = -(-tokenizer_size // 64) * 64
    special_ids = {token['content']: token['id'] for token in tokenizer['added_tokens']}
    eos_ids = [special_ids['<|end_of_text|>'], special_ids['<|eot_id|>']]
    weights = make_weights(vocab_size, tokenizer_size)

    rng = np.random.default_rng([SEED, 2])
    prompt = [special_ids['<|begin_of_text|>']] + [int(t) for t in rng.integers(0, tokenizer_size, 23)]
    continuation, margins = greedy(weights, prompt, 40)
    grown = prompt + continuation
    regrown = grown[:30] + [int(t) for t in rng.integers(0, tokenizer_size, 10)]
    forked = grown[:45] + [int(t) for t in rng.integers(0, tokenizer_size, 12)]
    records = [sequence_record(weights, 'grown', grown),
               sequence_record(weights, 'regrown', regrown),
               sequence_record(weights, 'forked', forked)]
    reference = {
        'vocabSize': vocab_size,
        'prompt': prompt,
        'greedy': continuation,
        'sequences': [record for record, _ in records],
    }
    argmax_margin = min(margin for _, margin in records)

    files = {}
    tokenizer_text = json.dumps(tokenizer, ensure_ascii=False, indent=1) + '\n'
    variants = [
        ('tiny-cwm', True, False, 'float32', 'tiny-cwm (random weights, test fixture)'),
        ('tiny-cwm-nopos', False, False, 'float32', 'tiny-cwm-nopos (random weights, test fixture)'),
        ('tiny-cwm-fp16', True, True, 'float16', 'tiny-cwm-fp16 (random weights, test fixture)'),
    ]
    for folder, with_positions, fp16_io, dtype, name in variants:
        files[f'{folder}/model.onnx'] = build_graph(SHAPE, weights, vocab_size, with_positions, fp16_io, 'tiny_cwm',
                                                   'neural-debugger kernels/build_test_models.py')
        files[f'{folder}/tokenizer.json'] = tokenizer_text.encode('utf-8')
        config = model_config(SHAPE, name, vocab_size, special_ids, eos_ids, dtype)
        files[f'{folder}/neural-debug-model.json'] = (compact_json(config) + '\n').encode('utf-8')
    files['reference.json'] = (compact_json(reference) + '\n').encode('utf-8')

    corpus_ids = bpe_encode(TRAINING_TEXT, vocab, merges)
    last = ref_logits(weights, grown)[-1]
    stats = {
        'merges': len(merges),
        'tokenizer_size': tokenizer_size,
        'vocab_size': vocab_size,
        'special_ids': special_ids,
        'corpus_bytes': len(TRAINING_TEXT.encode('utf-8')),
        'corpus_tokens': len(corpus_ids),
        'greedy_distinct': len(set(continuation)),
        'greedy_min_margin': min(margins),
        'argmax_min_margin': argmax_margin,
        'last_logits_std': float(np.std(last[:tokenizer_size])),
    }
    check_reference(reference, min(margins + [argmax_margin]), tokenizer_size, eos_ids)
    return files, stats


def check_reference(reference, margin, tokenizer_size, eos_ids):
    """Properties the tests rely on; a change of seed or scale that breaks one must not go unnoticed."""
    greedy_tokens = reference['greedy']
    if margin < MIN_MARGIN:
        raise SystemExit(f'an argmax in the reference leads by only {margin:.4f}: pick another seed')
    if len(set(greedy_tokens)) < 10 or greedy_tokens[0] == greedy_tokens[1] == greedy_tokens[2]:
        raise SystemExit(f'greedy decoding collapses: {greedy_tokens}')
    if max(greedy_tokens) >= tokenizer_size:
        raise SystemExit('greedy decoding produced an id past the tokenizer')
    if set(greedy_tokens) & set(eos_ids):
        raise SystemExit('greedy decoding produced an end-of-text token: generation tests would stop early')


def main(argv):
    check_only = '--check' in argv[1:]
    out_dir = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'test', 'fixtures', 'models')
    files, stats = build()
    stale = []
    for relative, data in sorted(files.items()):
        path = os.path.join(out_dir, relative)
        current = None
        if os.path.exists(path):
            with open(path, 'rb') as handle:
                current = handle.read()
        if current == data:
            continue
        stale.append(relative)
        if not check_only:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'wb') as handle:
                handle.write(data)
    for key, value in stats.items():
        print(f'{key}: {value}')
    total = sum(len(data) for data in files.values())
    print(f'{len(files)} files, {total} bytes; ' + (f'differ: {", ".join(stale)}' if stale else 'all up to date'))
    if check_only and stale:
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
