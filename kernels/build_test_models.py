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
import re
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

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
OPSET = 17
IR_VERSION = 8
MASKED = -1e9  # score given to a masked key inside the graph

NUM_MERGES = 200
CWM_TOKENS = [
    '<|begin_of_text|>',
    '<|end_of_text|>',
    '<|frame_sep|>',
    '<|action_sep|>',
    '<|return_sep|>',
    '<|call_sep|>',
    '<|line_sep|>',
    '<|exception_sep|>',
    '<|arg_sep|>',
    '<|trace_context_start|>',
]
ADDED_TOKENS = CWM_TOKENS + ['<|eot_id|>']

# Llama-3's pre-tokenizer pattern (Oniguruma syntax, as it appears in its tokenizer.json).
LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# The same pattern for Python's `re`, which has no \p{..}: a letter is [^\W\d_], a number \d, and
# "neither letter nor number" is any non-word character or the underscore. Exact on ASCII text, which
# is all the trainer ever sees; the tokenizer itself ships the pattern above.
_NOT_LN = r'(?:[^\w\r\n]|_)'
_NOT_LN_SPACE = r'(?:[^\w\s]|_)'
TRAINING_SPLIT = re.compile(
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)"
    + r'|' + _NOT_LN + r'?[^\W\d_]+'
    + r'|\d{1,3}'
    + r'| ?' + _NOT_LN_SPACE + r'+[\r\n]*'
    + r'|\s*[\r\n]+|\s+(?!\S)|\s+'
)

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
# Tokenizer

def byte_symbols():
    """GPT-2's reversible byte -> printable character table, indexed by byte value."""
    kept = (list(range(ord('!'), ord('~') + 1)) + list(range(ord('\u00a1'), ord('\u00ac') + 1))
            + list(range(ord('\u00ae'), ord('\u00ff') + 1)))
    table = {}
    shifted = 0
    for byte in range(256):
        if byte in kept:
            table[byte] = chr(byte)
        else:
            table[byte] = chr(256 + shifted)
            shifted += 1
    return [table[byte] for byte in range(256)]


BYTE_SYMBOLS = byte_symbols()


def to_symbols(piece):
    return tuple(BYTE_SYMBOLS[b] for b in piece.encode('utf-8'))


def train_bpe(text, num_merges):
    """Plain BPE over pre-tokenized words; ties go to the lexicographically smallest pair."""
    word_counts = {}
    for piece in TRAINING_SPLIT.findall(text):
        word = to_symbols(piece)
        word_counts[word] = word_counts.get(word, 0) + 1
    words = sorted(word_counts.items())
    merges = []
    for _ in range(num_merges):
        pair_counts = {}
        for word, count in words:
            for pair in zip(word, word[1:]):
                pair_counts[pair] = pair_counts.get(pair, 0) + count
        if not pair_counts:
            break
        best = min(pair_counts.items(), key=lambda item: (-item[1], item[0]))
        if best[1] < 2:
            break
        first, second = best[0]
        merges.append((first, second))
        joined = first + second
        rewritten = []
        for word, count in words:
            out = []
            i = 0
            while i < len(word):
                if i + 1 < len(word) and word[i] == first and word[i + 1] == second:
                    out.append(joined)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            rewritten.append((tuple(out), count))
        words = rewritten
    return merges


def build_vocab(merges):
    vocab = {symbol: byte for byte, symbol in enumerate(BYTE_SYMBOLS)}
    for first, second in merges:
        if first + second not in vocab:
            vocab[first + second] = len(vocab)
    return vocab


def bpe_encode(text, vocab, merges):
    """Encodes text the way a HF BPE model with ignore_merges does (for the script's own statistics)."""
    rank = {pair: i for i, pair in enumerate(merges)}
    ids = []
    for piece in TRAINING_SPLIT.findall(text):
        word = list(to_symbols(piece))
        if ''.join(word) in vocab:
            ids.append(vocab[''.join(word)])
            continue
        while len(word) > 1:
            ranked = [(rank.get((a, b), len(rank)), i) for i, (a, b) in enumerate(zip(word, word[1:]))]
            best_rank, at = min(ranked)
            if best_rank == len(rank):
                break
            word[at:at + 2] = [word[at] + word[at + 1]]
        ids.extend(vocab[symbol] for symbol in word)
    return ids


def tokenizer_json(vocab, merges):
    added = []
    for offset, content in enumerate(ADDED_TOKENS):
        added.append({
            'id': len(vocab) + offset,
            'content': content,
            'single_word': False,
            'lstrip': False,
            'rstrip': False,
            'normalized': False,
            'special': True,
        })
    return {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': added,
        'normalizer': None,
        'pre_tokenizer': {
            'type': 'Sequence',
            'pretokenizers': [
                {'type': 'Split', 'pattern': {'Regex': LLAMA3_PATTERN}, 'behavior': 'Isolated', 'invert': False},
                {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': False},
            ],
        },
        'post_processor': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': False, 'use_regex': True},
        'decoder': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': True, 'use_regex': True},
        'model': {
            'type': 'BPE',
            'dropout': None,
            'unk_token': None,
            'continuing_subword_prefix': None,
            'end_of_word_suffix': None,
            'fuse_unk': False,
            'byte_fallback': False,
            'ignore_merges': True,
            'vocab': vocab,
            'merges': [[first, second] for first, second in merges],
        },
    }


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
# ONNX graph

class Graph:
    def __init__(self):
        self.nodes = []
        self.initializers = []
        self.count = 0

    def fresh(self, hint):
        self.count += 1
        return f'{hint}_{self.count}'

    def op(self, op_type, inputs, hint=None, output=None, **attrs):
        output = output or self.fresh(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=f'n{len(self.nodes)}_{op_type}', **attrs))
        return output

    def const(self, name, array):
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name


def build_graph(weights, vocab_size, with_position_ids, fp16_io):
    g = Graph()
    io_float = TensorProto.FLOAT16 if fp16_io else TensorProto.FLOAT

    # Constants.
    g.const('c_axis1', np.array(1, dtype=np.int64))
    g.const('c_one', np.array(1, dtype=np.int64))
    g.const('c_axes1', np.array([1], dtype=np.int64))
    g.const('c_axes2', np.array([2], dtype=np.int64))
    g.const('c_axes12', np.array([1, 2], dtype=np.int64))
    g.const('c_eps', np.array(RMS_EPS, dtype=np.float32))
    g.const('c_masked', np.array(MASKED, dtype=np.float32))
    g.const('c_scale', np.array(1.0 / np.sqrt(HEAD_DIM), dtype=np.float32))
    g.const('c_half_split', np.array([HEAD_DIM // 2, HEAD_DIM // 2], dtype=np.int64))
    inv_freq = 1.0 / ROPE_THETA ** (np.arange(0, HEAD_DIM, 2, dtype=np.float64) / HEAD_DIM)
    g.const('c_inv_freq', np.concatenate([inv_freq, inv_freq]).astype(np.float32))
    g.const('c_shape_q', np.array([0, 0, NUM_HEADS, HEAD_DIM], dtype=np.int64))
    g.const('c_shape_kv', np.array([0, 0, NUM_KV_HEADS, HEAD_DIM], dtype=np.int64))
    g.const('c_shape_groups', np.array([0, NUM_KV_HEADS, NUM_HEADS // NUM_KV_HEADS, -1, HEAD_DIM], dtype=np.int64))
    g.const('c_shape_heads', np.array([0, NUM_HEADS, -1, HEAD_DIM], dtype=np.int64))
    g.const('c_shape_hidden', np.array([0, 0, NUM_HEADS * HEAD_DIM], dtype=np.int64))

    # Weights: float16 initializers, cast to float32 once.
    w = {}
    for name, value in weights.items():
        g.const('w16.' + name, value)
        w[name] = g.op('Cast', ['w16.' + name], output='w.' + name, to=TensorProto.FLOAT)

    # Inputs.
    inputs = [
        helper.make_tensor_value_info('input_ids', TensorProto.INT64, ['batch', 'seq']),
        helper.make_tensor_value_info('attention_mask', TensorProto.INT64, ['batch', 'total']),
    ]
    if with_position_ids:
        inputs.append(helper.make_tensor_value_info('position_ids', TensorProto.INT64, ['batch', 'seq']))
    for layer in range(NUM_LAYERS):
        for kind in ('key', 'value'):
            inputs.append(helper.make_tensor_value_info(
                f'past_key_values.{layer}.{kind}', io_float, ['batch', NUM_KV_HEADS, 'past', HEAD_DIM]))

    # Positions: keys from the mask; queries from position_ids or the mask's last `seq` entries.
    key_pos = g.op('Sub', [g.op('CumSum', ['attention_mask', 'c_axis1']), 'c_one'], 'key_pos')
    if with_position_ids:
        query_pos = 'position_ids'
    else:
        g.const('c_int64_max', np.array([np.iinfo(np.int64).max], dtype=np.int64))
        seq_len = g.op('Shape', ['input_ids'], 'seq_len', start=1, end=2)
        query_pos = g.op('Slice', [key_pos, g.op('Neg', [seq_len]), 'c_int64_max', 'c_axes1'], 'query_pos')

    # Masks [batch, 1, 1, seq, total]: causal, inside the window (local layers), not padding.
    keys_row = g.op('Unsqueeze', [key_pos, 'c_axes1'])        # [batch, 1, total]
    queries_col = g.op('Unsqueeze', [query_pos, 'c_axes2'])   # [batch, seq, 1]
    not_padding = g.op('Unsqueeze', [g.op('Cast', ['attention_mask'], to=TensorProto.BOOL), 'c_axes1'])
    causal = g.op('And', [g.op('LessOrEqual', [keys_row, queries_col]), not_padding], 'causal')
    masks = []
    for layer, window in enumerate(WINDOWS):
        mask = causal
        if window is not None:
            lowest = g.op('Sub', [queries_col, g.const(f'c_window_{layer}', np.array(window, dtype=np.int64))])
            mask = g.op('And', [mask, g.op('Greater', [keys_row, lowest])], f'local_mask_{layer}')
        masks.append(g.op('Unsqueeze', [mask, 'c_axes12'], f'mask_{layer}'))

    # Rotary tables [batch, 1, seq, HEAD_DIM] at the query positions (the new keys share them).
    angles = g.op('Mul', [g.op('Unsqueeze', [g.op('Cast', [query_pos], to=TensorProto.FLOAT), 'c_axes2']),
                          'c_inv_freq'], 'angles')
    cos = g.op('Unsqueeze', [g.op('Cos', [angles]), 'c_axes1'], 'cos')
    sin = g.op('Unsqueeze', [g.op('Sin', [angles]), 'c_axes1'], 'sin')

    def rotary(x):
        first = g.fresh('rot_first')
        second = g.fresh('rot_second')
        g.nodes.append(helper.make_node('Split', [x, 'c_half_split'], [first, second], name=f'n{len(g.nodes)}_Split', axis=-1))
        rotated = g.op('Concat', [g.op('Neg', [second]), first], axis=-1)
        return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rotated, sin])], 'rotary')

    def rms_norm(x, weight):
        mean_square = g.op('ReduceMean', [g.op('Mul', [x, x])], axes=[-1], keepdims=1)
        return g.op('Mul', [g.op('Div', [x, g.op('Sqrt', [g.op('Add', [mean_square, 'c_eps'])])]), weight], 'rms_norm')

    def heads(x, shape):  # [batch, seq, n*HEAD_DIM] -> [batch, n, seq, HEAD_DIM]
        return g.op('Transpose', [g.op('Reshape', [x, shape])], perm=[0, 2, 1, 3])

    outputs = [helper.make_tensor_value_info('logits', io_float, ['batch', 'seq', vocab_size])]
    x = g.op('Gather', [w['embed'], 'input_ids'], 'embedded', axis=0)
    for layer in range(NUM_LAYERS):
        p = f'layers.{layer}.'
        h = rms_norm(x, w[p + 'attn_norm'])
        q = rotary(heads(g.op('MatMul', [h, w[p + 'q']]), 'c_shape_q'))
        k = rotary(heads(g.op('MatMul', [h, w[p + 'k']]), 'c_shape_kv'))
        v = heads(g.op('MatMul', [h, w[p + 'v']]), 'c_shape_kv')
        cache = []
        for kind, new in (('key', k), ('value', v)):
            past = f'past_key_values.{layer}.{kind}'
            if fp16_io:
                past = g.op('Cast', [past], to=TensorProto.FLOAT)
            present_name = f'present.{layer}.{kind}'
            full = g.op('Concat', [past, new], output=present_name + ('.f32' if fp16_io else ''), axis=2)
            if fp16_io:
                g.op('Cast', [full], output=present_name, to=TensorProto.FLOAT16)
            outputs.append(helper.make_tensor_value_info(present_name, io_float, ['batch', NUM_KV_HEADS, 'total', HEAD_DIM]))
            cache.append(g.op('Unsqueeze', [full, 'c_axes2']))  # [batch, kv, 1, total, HEAD_DIM]
        keys, values = cache
        grouped_q = g.op('Reshape', [q, 'c_shape_groups'])  # [batch, kv, group, seq, HEAD_DIM]
        scores = g.op('Mul', [g.op('MatMul', [grouped_q, g.op('Transpose', [keys], perm=[0, 1, 2, 4, 3])]), 'c_scale'])
        probs = g.op('Softmax', [g.op('Where', [masks[layer], scores, 'c_masked'])], axis=-1)
        attended = g.op('Reshape', [g.op('MatMul', [probs, values]), 'c_shape_heads'])  # [batch, heads, seq, HEAD_DIM]
        merged = g.op('Reshape', [g.op('Transpose', [attended], perm=[0, 2, 1, 3]), 'c_shape_hidden'])
        x = g.op('Add', [x, g.op('MatMul', [merged, w[p + 'o']])], 'residual')
        h = rms_norm(x, w[p + 'ffn_norm'])
        gate = g.op('MatMul', [h, w[p + 'gate']])
        silu = g.op('Mul', [gate, g.op('Sigmoid', [gate])])
        ffn = g.op('MatMul', [g.op('Mul', [silu, g.op('MatMul', [h, w[p + 'up']])]), w[p + 'down']])
        x = g.op('Add', [x, ffn], 'residual')
    logits = g.op('MatMul', [rms_norm(x, w['final_norm']), w['lm_head']], output='logits.f32' if fp16_io else 'logits')
    if fp16_io:
        g.op('Cast', [logits], output='logits', to=TensorProto.FLOAT16)

    # Constants only one variant needs (e.g. the slice bound without position_ids) are left out.
    used = {name for node in g.nodes for name in node.input}
    initializers = [init for init in g.initializers if init.name in used]
    graph = helper.make_graph(g.nodes, 'tiny_cwm', inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', OPSET)],
                              producer_name='neural-debugger kernels/build_test_models.py', producer_version='1')
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model.SerializeToString()


# ---------------------------------------------------------------------------------------------------
# Files

def compact_json(value, indent=0):
    """JSON with two-space indentation, except that lists of numbers stay on one line."""
    pad = '  ' * indent
    inner = '  ' * (indent + 1)
    if isinstance(value, dict):
        if not value:
            return '{}'
        items = [f'{inner}{json.dumps(key)}: {compact_json(item, indent + 1)}' for key, item in value.items()]
        return '{\n' + ',\n'.join(items) + '\n' + pad + '}'
    if isinstance(value, list):
        if all(item is None or (isinstance(item, (int, float)) and not isinstance(item, bool)) for item in value):
            return '[' + ', '.join(json.dumps(item) for item in value) + ']'
        items = [inner + compact_json(item, indent + 1) for item in value]
        return '[\n' + ',\n'.join(items) + '\n' + pad + ']'
    return json.dumps(value, ensure_ascii=False)


def model_config(name, vocab_size, special_ids, eos_ids, dtype):
    return {
        'format': 'neural-debug-model',
        'version': 1,
        'name': name,
        'model': 'model.onnx',
        'tokenizer': 'tokenizer.json',
        'vocabSize': vocab_size,
        'contextLength': CONTEXT_LENGTH,
        'specialTokens': {token: special_ids[token] for token in CWM_TOKENS},
        'eosTokenIds': eos_ids,
        'numLayers': NUM_LAYERS,
        'numKvHeads': NUM_KV_HEADS,
        'headDim': HEAD_DIM,
        'dtype': dtype,
        'attentionWindows': WINDOWS,
    }


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
        files[f'{folder}/model.onnx'] = build_graph(weights, vocab_size, with_positions, fp16_io)
        files[f'{folder}/tokenizer.json'] = tokenizer_text.encode('utf-8')
        config = model_config(name, vocab_size, special_ids, eos_ids, dtype)
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
