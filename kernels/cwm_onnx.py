"""A Llama-style decoder in CWM's miniature (RMSNorm, SwiGLU, grouped-query attention, rotary positions,
local and global attention layers) written as an ONNX graph of standard opset-17 ops, plus the model
folder's neural-debug-model.json. The graph takes and returns the Optimum layout (`input_ids`,
`attention_mask`, optional `position_ids`, `past_key_values.N.key/value` -> `logits`, `present.N.*`),
so the runtime loads a fixture, the bundled model and a real export the same way.

Weights are a dict of float16 numpy arrays named embed, layers.N.{attn_norm,q,k,v,o,ffn_norm,gate,up,
down}, final_norm, lm_head; matrices are [in, out] (x @ W). They are stored as float16 initializers and
cast to float32 once inside the graph.

With the weights copy_{query,query_token,query_prev,key_token,key_prev,gate,gate_bias} the graph also
has the copy path of kernels/train_model.py (Decoder.copy_scores): it takes `past_input_ids` (the ids
the cache holds, [batch, past]) and returns `present_input_ids`, and its `logits` are the log of the
mixture of the vocabulary distribution and the copied ids (ScatterElements with reduction add, opset 16+).

Shared by build_test_models.py (fixtures) and export_model.py (the bundled model).
"""
import json
from collections import namedtuple

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from cwm_tokenizer import CWM_TOKENS

OPSET = 17
IR_VERSION = 8
MASKED = -1e9  # score given to a masked key inside the graph

# windows: per layer, a key is visible when p - window < k <= p; None = global (k <= p).
Shape = namedtuple('Shape', 'hidden num_layers num_heads num_kv_heads head_dim ffn rms_eps rope_theta windows context_length')


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


def build_graph(shape, weights, vocab_size, with_position_ids, fp16_io, graph_name, producer):
    """The decoder as an ONNX graph (standard opset-17 ops only), with the Optimum input/output names."""
    HIDDEN, NUM_LAYERS, NUM_HEADS, NUM_KV_HEADS, HEAD_DIM = shape.hidden, shape.num_layers, shape.num_heads, shape.num_kv_heads, shape.head_dim
    RMS_EPS, ROPE_THETA, WINDOWS = shape.rms_eps, shape.rope_theta, shape.windows
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
    has_copy = 'copy_query' in weights
    if has_copy:
        inputs.append(helper.make_tensor_value_info('past_input_ids', TensorProto.INT64, ['batch', 'past']))

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
    hidden = rms_norm(x, w['final_norm'])
    if has_copy:
        lm_logits = g.op('MatMul', [hidden, w['lm_head']], 'lm_logits')
        logits = copy_mixture(g, w, hidden, lm_logits, causal, output='logits.f32' if fp16_io else 'logits')
        outputs.append(helper.make_tensor_value_info('present_input_ids', TensorProto.INT64, ['batch', 'total']))
    else:
        logits = g.op('MatMul', [hidden, w['lm_head']], output='logits.f32' if fp16_io else 'logits')
    if fp16_io:
        g.op('Cast', [logits], output='logits', to=TensorProto.FLOAT16)

    # Constants only one variant needs (e.g. the slice bound without position_ids) are left out.
    used = {name for node in g.nodes for name in node.input}
    initializers = [init for init in g.initializers if init.name in used]
    graph = helper.make_graph(g.nodes, graph_name, inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', OPSET)],
                              producer_name=producer, producer_version='1')
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model.SerializeToString()


def copy_mixture(g, w, hidden, lm_logits, causal, output):
    """log(gate * softmax(lm_logits) + (1 - gate) * the copy attention scattered onto the ids it points
    at): train_model.py's Decoder.forward with the copy path, step for step. Position i offers the id at
    i, keyed by the ids at i-1 and i-2 (the first id stands in before the start), and is visible to
    query position t when i <= t."""
    dim = int(g_shape(g, 'w16.copy_query')[1])
    g.const('c_copy_scale', np.array(1.0 / np.sqrt(dim), dtype=np.float32))
    g.const('c_min_prob', np.array(1e-30, dtype=np.float32))
    g.const('c_one_f', np.array(1.0, dtype=np.float32))
    g.const('c_zero1', np.array([0], dtype=np.int64))
    g.const('c_one1', np.array([1], dtype=np.int64))
    if not any(init.name == 'c_int64_max' for init in g.initializers):  # present when there are no position_ids
        g.const('c_int64_max', np.array([np.iinfo(np.int64).max], dtype=np.int64))
    all_ids = g.op('Concat', ['past_input_ids', 'input_ids'], output='present_input_ids', axis=1)  # [batch, total]
    total = g.op('Shape', [all_ids], 'total_len', start=1, end=2)
    seq = g.op('Shape', ['input_ids'], 'copy_seq_len', start=1, end=2)
    first = g.op('Slice', [all_ids, 'c_zero1', 'c_one1', 'c_axes1'], 'first_id')
    prev1 = g.op('Slice', [g.op('Concat', [first, all_ids], axis=1), 'c_zero1', total, 'c_axes1'], 'prev1_ids')
    prev2 = g.op('Slice', [g.op('Concat', [first, first, all_ids], axis=1), 'c_zero1', total, 'c_axes1'], 'prev2_ids')
    keys = g.op('Add', [g.op('Gather', [w['copy_key_token'], prev1], axis=0),
                        g.op('Gather', [w['copy_key_prev'], prev2], axis=0)], 'copy_keys')  # [batch, total, dim]
    query_prev = g.op('Slice', [prev1, g.op('Neg', [seq]), 'c_int64_max', 'c_axes1'], 'query_prev_ids')
    query = g.op('Add', [g.op('Add', [g.op('MatMul', [hidden, w['copy_query']]),
                                      g.op('Gather', [w['copy_query_token'], 'input_ids'], axis=0)]),
                         g.op('Gather', [w['copy_query_prev'], query_prev], axis=0)], 'copy_query')
    scores = g.op('Mul', [g.op('MatMul', [query, g.op('Transpose', [keys], perm=[0, 2, 1])]), 'c_copy_scale'])
    attention = g.op('Softmax', [g.op('Where', [causal, scores, 'c_masked'])], 'copy_attention', axis=-1)  # [batch, seq, total]
    keep = g.op('Sigmoid', [g.op('Unsqueeze', [g.op('Add', [g.op('MatMul', [hidden, w['copy_gate']]), w['copy_gate_bias']]),
                                               'c_axes2'])], 'copy_keep')  # [batch, seq, 1]
    vocab = g.op('Mul', [g.op('Softmax', [lm_logits], axis=-1), keep], 'vocab_share')
    copied = g.op('Mul', [attention, g.op('Sub', ['c_one_f', keep])], 'copy_share')
    indices = g.op('Expand', [g.op('Unsqueeze', [all_ids, 'c_axes1']), g.op('Shape', [copied])], 'copy_indices')
    mixture = g.op('ScatterElements', [vocab, indices, copied], 'mixture', axis=2, reduction='add')
    return g.op('Log', [g.op('Max', [mixture, 'c_min_prob'])], output=output)


def g_shape(g, name):
    return next(init.dims for init in g.initializers if init.name == name)


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


def model_config(shape, name, vocab_size, special_ids, eos_ids, dtype):
    return {
        'format': 'neural-debug-model',
        'version': 1,
        'name': name,
        'model': 'model.onnx',
        'tokenizer': 'tokenizer.json',
        'vocabSize': vocab_size,
        'contextLength': shape.context_length,
        'specialTokens': {token: special_ids[token] for token in CWM_TOKENS},
        'eosTokenIds': eos_ids,
        'numLayers': shape.num_layers,
        'numKvHeads': shape.num_kv_heads,
        'headDim': shape.head_dim,
        'dtype': dtype,
        'attentionWindows': list(shape.windows),
    }
