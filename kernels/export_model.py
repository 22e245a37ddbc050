#!/usr/bin/python3
"""Writes a trained decoder as a model folder the runtime loads like any CWM export.

    /usr/bin/python3 kernels/export_model.py --run build/train/run --tokenizer build/train/tokenizer.json \
        --out models/cwm-tiny

Reads RUN/weights.npz and RUN/run.json (train_model.py) and writes OUT/model.onnx (the graph of
cwm_onnx.py, weights stored as float16), OUT/tokenizer.json and OUT/neural-debug-model.json. Needs
Debian's python3-numpy and python3-onnx; no torch.
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np

from cwm_onnx import Shape, build_graph, compact_json, model_config


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--run', required=True)
    parser.add_argument('--tokenizer', required=True)
    parser.add_argument('--out', required=True)
    parser.add_argument('--name', default='cwm-tiny (bundled, trained on generated programs)')
    parser.add_argument('--context-length', type=int, default=0,
                        help="the context the runtime may fill (default: the training length). Past the training length, "
                             "the global layers attend to the last training-length tokens only, so that they never meet a "
                             "rotary distance they were not trained on; the copy path still reads the whole context")
    args = parser.parse_args(argv)
    with open(os.path.join(args.run, 'run.json'), encoding='utf-8') as handle:
        run = json.load(handle)
    with open(args.tokenizer, encoding='utf-8') as handle:
        tokenizer = json.load(handle)
    s = run['shape']
    context = args.context_length or run['seq_len']
    # Within the training length a global layer and one windowed at that length compute the same thing.
    windows = tuple(w if w is not None or context <= run['seq_len'] else run['seq_len'] for w in s['windows'])
    shape = Shape(s['hidden'], s['num_layers'], s['num_heads'], s['num_kv_heads'], s['head_dim'], s['ffn'],
                  s['rms_eps'], s['rope_theta'], windows, context)
    loaded = np.load(os.path.join(args.run, 'weights.npz'))
    weights = {name: loaded[name].astype(np.float16) for name in loaded.files}
    vocab_size = run['vocab_size']
    if weights['lm_head'].shape[1] != vocab_size:
        raise SystemExit(f"lm_head is {weights['lm_head'].shape[1]} wide, run.json says {vocab_size}")
    special_ids = {token['content']: token['id'] for token in tokenizer['added_tokens']}
    tokenizer_size = len(tokenizer['model']['vocab']) + len(tokenizer['added_tokens'])
    if tokenizer_size > vocab_size:
        raise SystemExit(f'the tokenizer has {tokenizer_size} ids but the model only {vocab_size} logits')
    # Ids past the tokenizer were never a target: training pushed their logits far down; they are left
    # as trained, so the graph computes exactly what train_model.py's reference.json records.
    eos_ids = [special_ids['<|end_of_text|>'], special_ids['<|eot_id|>']]
    os.makedirs(args.out, exist_ok=True)
    graph = build_graph(shape, weights, vocab_size, True, False, 'cwm_tiny', 'neural-debugger kernels/export_model.py')
    with open(os.path.join(args.out, 'model.onnx'), 'wb') as handle:
        handle.write(graph)
    shutil.copyfile(args.tokenizer, os.path.join(args.out, 'tokenizer.json'))
    config = model_config(shape, args.name, vocab_size, special_ids, eos_ids, 'float32')
    with open(os.path.join(args.out, 'neural-debug-model.json'), 'w', encoding='utf-8') as handle:
        handle.write(compact_json(config) + '\n')
    print(f'{args.out}: model.onnx {len(graph) / 1e6:.1f} MB, {run["parameters"]} parameters, vocab {vocab_size}', file=sys.stderr)


if __name__ == '__main__':
    main(sys.argv[1:])
