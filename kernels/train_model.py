#!/usr/bin/python3
"""Trains the bundled world model: a decoder in CWM's architecture, in miniature.

    /usr/bin/python3 kernels/train_model.py --data build/train/train --heldout build/train/heldout \
        --steps 1400 --out build/train/run

--data and --heldout are prefixes written by tokenize_traces.mjs (PREFIX.bin + PREFIX.json). The network
is exactly the one kernels/cwm_onnx.py writes as ONNX (RMSNorm, SwiGLU, grouped-query attention, rotary
positions with HF Llama's rotate-half convention, local and global layers); matrices are kept as
[in, out] so the weights go into the graph unchanged. The loss is taken on the trace only (every id
after the prompt's <|frame_sep|>): the model is never asked to write programs, only to run them.

Writes into --out: weights.npz (float32, names as cwm_onnx.py expects; rewritten at every evaluation),
log.jsonl (one line per logged step and per held-out evaluation) and run.json (shape, data, hardware,
time). Deterministic for a given seed, data and thread count on one machine (CPU kernels only).
Needs torch (Debian: apt-get install -y python3-torch libopenblas0-pthread; see kernels/README.md).
"""
import argparse
import json
import math
import os
import platform
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

DEVICE = torch.device('cpu')

SHAPE = {
    'hidden': 256,
    'num_layers': 4,
    'num_heads': 8,
    'num_kv_heads': 2,
    'head_dim': 32,
    'ffn': 704,
    'rms_eps': 1e-5,
    'rope_theta': 10000.0,
    # CWM alternates local and global layers; the local window is a fraction of the training length
    # so that the local layers really are local here.
    'windows': [256, None, 256, None],
}


class Decoder(torch.nn.Module):
    def __init__(self, vocab_size, shape):
        super().__init__()
        self.shape = shape
        hidden, heads, kv, hd, ffn = shape['hidden'], shape['num_heads'], shape['num_kv_heads'], shape['head_dim'], shape['ffn']
        out_scale = 0.02 / math.sqrt(2 * shape['num_layers'])

        def matrix(rows, cols, std=0.02):
            return torch.nn.Parameter(torch.randn(rows, cols) * std)

        self.params = torch.nn.ParameterDict()
        self.params['embed'] = matrix(vocab_size, hidden)
        for layer in range(shape['num_layers']):
            p = f'layers_{layer}_'
            self.params[p + 'attn_norm'] = torch.nn.Parameter(torch.ones(hidden))
            self.params[p + 'q'] = matrix(hidden, heads * hd)
            self.params[p + 'k'] = matrix(hidden, kv * hd)
            self.params[p + 'v'] = matrix(hidden, kv * hd)
            self.params[p + 'o'] = matrix(heads * hd, hidden, out_scale)
            self.params[p + 'ffn_norm'] = torch.nn.Parameter(torch.ones(hidden))
            self.params[p + 'gate'] = matrix(hidden, ffn)
            self.params[p + 'up'] = matrix(hidden, ffn)
            self.params[p + 'down'] = matrix(ffn, hidden, out_scale)
        self.params['final_norm'] = torch.nn.Parameter(torch.ones(hidden))
        self.params['lm_head'] = matrix(hidden, vocab_size)
        inv_freq = 1.0 / shape['rope_theta'] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd)
        self.register_buffer('inv_freq', torch.cat([inv_freq, inv_freq]).float(), persistent=False)

    def rms_norm(self, x, weight):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.shape['rms_eps']) * weight

    def forward(self, ids):
        batch, n = ids.shape
        s = self.shape
        heads, kv, hd = s['num_heads'], s['num_kv_heads'], s['head_dim']
        positions = torch.arange(n, device=ids.device)
        angles = positions[:, None].float() * self.inv_freq[None, :]
        cos, sin = angles.cos(), angles.sin()
        half = hd // 2

        def rotary(x):
            rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
            return x * cos + rotated * sin

        query_pos = positions[:, None]
        key_pos = positions[None, :]
        causal = key_pos <= query_pos
        # Additive masks, and the 1/sqrt(hd) folded into q: on the CPU the n*n passes dominate a step.
        biases = [torch.zeros(n, n, device=ids.device).masked_fill(
            ~(causal if window is None else causal & (key_pos > query_pos - window)), float('-inf')) for window in s['windows']]
        group = heads // kv
        w = self.params
        x = w['embed'][ids]
        for layer in range(s['num_layers']):
            p = f'layers_{layer}_'
            h = self.rms_norm(x, w[p + 'attn_norm'])
            q = rotary((h @ w[p + 'q']).view(batch, n, heads, hd).transpose(1, 2)) * (1.0 / math.sqrt(hd))
            k = rotary((h @ w[p + 'k']).view(batch, n, kv, hd).transpose(1, 2))
            v = (h @ w[p + 'v']).view(batch, n, kv, hd).transpose(1, 2)
            # Query head i reads KV head i // group, as the graph's [kv, group] reshape does; the group's
            # queries share one product with their KV head instead of copies of it.
            q = q.reshape(batch, kv, group * n, hd)
            scores = (q @ k.transpose(-1, -2)).view(batch, kv, group, n, n) + biases[layer]
            probs = torch.softmax(scores, dim=-1).view(batch, kv, group * n, n)
            attended = (probs @ v).view(batch, heads, n, hd)
            x = x + attended.transpose(1, 2).reshape(batch, n, heads * hd) @ w[p + 'o']
            h = self.rms_norm(x, w[p + 'ffn_norm'])
            x = x + (F.silu(h @ w[p + 'gate']) * (h @ w[p + 'up'])) @ w[p + 'down']
        return self.rms_norm(x, w['final_norm']) @ w['lm_head']

    @staticmethod
    def exported_name(name):
        """`layers_0_attn_norm` (a ParameterDict key cannot hold dots) -> `layers.0.attn_norm`."""
        return name.replace('layers_', 'layers.', 1).replace('_', '.', 1) if name.startswith('layers_') else name

    def export_weights(self):
        return {self.exported_name(name): value.detach().float().cpu().numpy() for name, value in self.params.items()}

    def load_weights(self, weights):
        """The inverse of export_weights: arrays by exported name (a weights.npz)."""
        with torch.no_grad():
            for name, value in self.params.items():
                value.copy_(torch.from_numpy(weights[self.exported_name(name)]))


class Traces:
    """Token ids of a tokenize_traces.mjs output, cut to the training length."""

    def __init__(self, prefix, seq_len, limit=None):
        with open(prefix + '.json', encoding='utf-8') as handle:
            self.index = json.load(handle)['traces'][:limit]
        self.ids = np.fromfile(prefix + '.bin', dtype=np.uint16)
        self.seq_len = seq_len

    def example(self, i):
        start, length, prompt = self.index[i]
        take = min(length, self.seq_len + 1)
        ids = self.ids[start:start + take].astype(np.int64)
        return ids, prompt

    def batch(self, order):
        examples = [self.example(i) for i in order]
        width = max(len(ids) for ids, _ in examples) - 1
        inputs = np.zeros((len(examples), width), dtype=np.int64)
        targets = np.full((len(examples), width), -100, dtype=np.int64)
        for row, (ids, prompt) in enumerate(examples):
            inputs[row, :len(ids) - 1] = ids[:-1]
            # Position t predicts ids[t + 1]; only ids after the prompt count.
            target = ids[1:].copy()
            target[:max(0, prompt - 1)] = -100
            targets[row, :len(ids) - 1] = target
        return torch.from_numpy(inputs), torch.from_numpy(targets)

    def batches(self, rng, tokens_per_batch):
        """One epoch: traces of similar length batched together, batches in random order."""
        lengths = np.array([min(length, self.seq_len + 1) for _, length, _ in self.index])
        order = np.argsort(lengths + rng.random(len(lengths)) * 32, kind='stable')
        out = []
        current = []
        for i in order:
            width = max([lengths[j] for j in current] + [lengths[i]])
            if current and width * (len(current) + 1) > tokens_per_batch:
                out.append(current)
                current = []
            current.append(i)
        if current:
            out.append(current)
        rng.shuffle(out)
        return out


def evaluate(model, traces, tokens_per_batch):
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for order in traces.batches(np.random.default_rng(0), tokens_per_batch):
            inputs, targets = (tensor.to(DEVICE) for tensor in traces.batch(order))
            logits = model(inputs)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100, reduction='sum')
            total += float(loss)
            count += int((targets != -100).sum())
    model.train()
    return total / max(1, count)


def write_reference(model, heldout, path, length=48):
    """Logits of the first held-out trace's first ids, computed with the weights rounded to float16 as
    the ONNX file stores them: the runtime's test checks that the exported graph computes the same."""
    rounded = Decoder(model.params['lm_head'].shape[1], model.shape)
    with torch.no_grad():
        for name, value in model.params.items():
            rounded.params[name].copy_(value.detach().cpu().half().float())
        ids, _ = heldout.example(0)
        tokens = [int(t) for t in ids[:length]]
        logits = rounded(torch.tensor([tokens]))[0].double()  # on the CPU, in float32: as the runtime computes
    last = logits[-4:]
    logprobs = torch.log_softmax(logits[:-1], dim=-1)
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump({'tokens': tokens, 'argmax': [int(i) for i in logits.argmax(-1)],
                   'logprobs': [round(float(logprobs[i - 1, tokens[i]]), 5) for i in range(1, len(tokens))],
                   'lastLogits': [[round(float(v), 5) for v in row] for row in last]}, handle)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', required=True)
    parser.add_argument('--heldout', required=True)
    parser.add_argument('--out', required=True)
    parser.add_argument('--vocab-size', type=int, default=2048, help="the logits' width (tokenizer ids rounded up to 64)")
    parser.add_argument('--steps', type=int, default=1400)
    parser.add_argument('--seq-len', type=int, default=1024)
    parser.add_argument('--tokens-per-batch', type=int, default=8192)
    parser.add_argument('--lr', type=float, default=2e-3)
    parser.add_argument('--warmup', type=int, default=60)
    parser.add_argument('--eval-every', type=int, default=100)
    parser.add_argument('--heldout-traces', type=int, default=150, help='held-out traces the loss curve is measured on')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--device', default='cpu', help='cpu, or cuda on a GPU machine (float32 either way)')
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--stop-at', type=int, default=0, help='end after this step, keeping the learning-rate schedule of --steps')
    parser.add_argument('--init', help='weights.npz of an earlier run to start from (its shape must match)')
    parser.add_argument('--max-minutes', type=float, default=0, help='stop early after this long (0: never); recorded in run.json')
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    train = Traces(args.data, args.seq_len)
    heldout = Traces(args.heldout, args.seq_len, args.heldout_traces)
    global DEVICE
    DEVICE = torch.device(args.device)
    model = Decoder(args.vocab_size, SHAPE)
    if args.init:
        model.load_weights(np.load(args.init))
    model.to(DEVICE)
    params = sum(p.numel() for p in model.parameters())
    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.05}, {'params': no_decay, 'weight_decay': 0.0}],
                                  lr=args.lr, betas=(0.9, 0.95), eps=1e-8)

    def lr_at(step):
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        progress = (step - args.warmup) / max(1, args.steps - args.warmup)
        return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))

    rng = np.random.default_rng(args.seed)
    log = open(os.path.join(args.out, 'log.jsonl'), 'w', encoding='utf-8')
    started = time.time()
    seen_tokens = 0
    epoch = 0
    pending = []
    step = 0
    stopped_early = False

    def record(entry):
        log.write(json.dumps(entry) + '\n')
        log.flush()
        print(json.dumps(entry), flush=True)

    def save():
        np.savez(os.path.join(args.out, 'weights.npz'), **model.export_weights())
        write_reference(model, heldout, os.path.join(args.out, 'reference.json'))

    last_step = min(args.steps, args.stop_at) if args.stop_at else args.steps
    while step < last_step:
        if not pending:
            pending = train.batches(rng, args.tokens_per_batch)
            epoch += 1
        order = pending.pop()
        inputs, targets = (tensor.to(DEVICE) for tensor in train.batch(order))
        for group in optimizer.param_groups:
            group['lr'] = lr_at(step)
        logits = model(inputs)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        seen_tokens += int(inputs.numel())
        step += 1
        elapsed = time.time() - started
        if step % 10 == 0 or step == 1:
            record({'step': step, 'epoch': epoch, 'loss': round(float(loss), 4), 'lr': round(lr_at(step - 1), 6),
                    'tokens': seen_tokens, 'seconds': round(elapsed, 1), 'tokens_per_second': round(seen_tokens / elapsed)})
        if step % args.eval_every == 0 or step == last_step:
            record({'step': step, 'heldout_loss': round(evaluate(model, heldout, args.tokens_per_batch), 4), 'seconds': round(time.time() - started, 1)})
            save()
        if args.max_minutes and elapsed > args.max_minutes * 60 and step < last_step:
            stopped_early = True
            record({'step': step, 'heldout_loss': round(evaluate(model, heldout, args.tokens_per_batch), 4), 'seconds': round(time.time() - started, 1), 'stopped_early': True})
            save()
            break

    run = {
        'shape': SHAPE,
        'vocab_size': args.vocab_size,
        'parameters': params,
        'steps': step,
        'planned_steps': args.steps,
        'stop_at': args.stop_at,
        'stopped_early': stopped_early,
        'epochs': epoch,
        'tokens_seen': seen_tokens,
        'train_traces': len(train.index),
        'train_tokens': int(len(train.ids)),
        'heldout_traces': len(heldout.index),
        'seq_len': args.seq_len,
        'tokens_per_batch': args.tokens_per_batch,
        'lr': args.lr,
        'seed': args.seed,
        'init': args.init,
        'threads': args.threads,
        'seconds': round(time.time() - started, 1),
        'torch': torch.__version__,
        'hardware': (torch.cuda.get_device_name(DEVICE) if DEVICE.type == 'cuda'
                     else f'{platform.machine()}, {os.cpu_count()} cores, {args.threads} threads'),
    }
    with open(os.path.join(args.out, 'run.json'), 'w', encoding='utf-8') as handle:
        json.dump(run, handle, indent=2)
    print(json.dumps(run), flush=True)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
