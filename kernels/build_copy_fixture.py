#!/usr/bin/python3
"""Writes test/fixtures/models/tiny-cwm-copy/: the tiny fixture decoder with the copy path, random
weights, and tiny-cwm-copy-reference.json, what train_model.py's torch network computes for a row that
repeats a run of ids. The runtime's tests check the exported graph against it, through the engine's
sequence API (scoring, step by step, after a step back and in a fork).

    /usr/bin/python3 kernels/build_copy_fixture.py           # (re)writes the files
    /usr/bin/python3 kernels/build_copy_fixture.py --check   # writes nothing; exit 1 if a file would change

Needs Debian's python3-torch, python3-onnx and python3-numpy. Deterministic for its seed.
"""
import json
import os
import shutil
import sys

import numpy as np
import torch

import train_model
from cwm_onnx import Shape, build_graph, compact_json, model_config

SEED = 5
SHAPE = {'hidden': 64, 'num_layers': 2, 'num_heads': 4, 'num_kv_heads': 2, 'head_dim': 16, 'ffn': 128,
         'rms_eps': 1e-5, 'rope_theta': 10000.0, 'windows': [16, None], 'copy_dim': 16}
VOCAB = 512
TOKENIZER_IDS = 467  # the tiny fixtures' tokenizer: ids past it are padding
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
MODELS = os.path.join(ROOT, 'test', 'fixtures', 'models')


def main(argv):
    torch.manual_seed(SEED)
    model = train_model.Decoder(VOCAB, SHAPE)
    with torch.no_grad():
        # The stored weights are float16: the reference is computed from the same rounded values.
        for value in model.params.values():
            value.copy_(value.half().float())
    weights = {name: value.astype(np.float16) for name, value in model.export_weights().items()}
    shape = Shape(SHAPE['hidden'], SHAPE['num_layers'], SHAPE['num_heads'], SHAPE['num_kv_heads'], SHAPE['head_dim'],
                  SHAPE['ffn'], SHAPE['rms_eps'], SHAPE['rope_theta'], tuple(SHAPE['windows']), 16384)
    graph = build_graph(shape, weights, VOCAB, True, False, 'tiny_cwm_copy', 'neural-debugger kernels/build_copy_fixture.py')

    # A row of random ids whose ids 40-79 come again from 120 on: the copy path's case.
    rng = np.random.default_rng(SEED)
    tokens = [int(t) for t in rng.integers(0, TOKENIZER_IDS - 11, size=160)]
    tokens[120:160] = tokens[40:80]
    with torch.no_grad():
        logits = model(torch.tensor([tokens]))[0].double()
    logprobs = torch.log_softmax(logits[:-1], dim=-1)
    reference = {
        'tokens': tokens,
        'repeatFrom': 120,
        'repeatLength': 40,
        'argmax': [int(i) for i in logits.argmax(-1)],
        'logprobs': [round(float(logprobs[i - 1, tokens[i]]), 5) for i in range(1, len(tokens))],
        'lastLogits': [[round(float(v), 5) for v in row] for row in logits[-4:]],
    }

    with open(os.path.join(MODELS, 'tiny-cwm', 'neural-debug-model.json'), encoding='utf-8') as handle:
        base = json.load(handle)
    config = model_config(shape, 'tiny-cwm-copy (random weights with the copy path, test fixture)', VOCAB,
                          base['specialTokens'], base['eosTokenIds'], 'float32')
    files = {
        'tiny-cwm-copy/model.onnx': graph,
        'tiny-cwm-copy/neural-debug-model.json': (compact_json(config) + '\n').encode('utf-8'),
        'tiny-cwm-copy-reference.json': (compact_json(reference) + '\n').encode('utf-8'),
    }
    tokenizer = os.path.join(MODELS, 'tiny-cwm', 'tokenizer.json')
    changed = [name for name, data in files.items() if read(os.path.join(MODELS, name)) != data]
    if '--check' in argv:
        print('\n'.join(changed) if changed else 'up to date')
        return 1 if changed else 0
    os.makedirs(os.path.join(MODELS, 'tiny-cwm-copy'), exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(MODELS, name), 'wb') as handle:
            handle.write(data)
    shutil.copyfile(tokenizer, os.path.join(MODELS, 'tiny-cwm-copy', 'tokenizer.json'))
    print(f'wrote {", ".join(files)} ({len(graph) / 1e3:.0f} kB graph)')
    return 0


def read(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except FileNotFoundError:
        return None


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
