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
    # The copy path (Decoder.copy_scores): 0 leaves it out, as in the models trained before it.
    'copy_dim': 64,
}

# A token is at least this likely in the mixture, so its log never reaches -inf (the graph does the same).
MIN_PROB = 1e-30


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
        if shape.get('copy_dim'):
            self.add_copy_path(vocab_size, shape['copy_dim'])
        inv_freq = 1.0 / shape['rope_theta'] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd)
        self.register_buffer('inv_freq', torch.cat([inv_freq, inv_freq]).float(), persistent=False)

    def add_copy_path(self, vocab_size, dim, match_std=0.7):
        """The copy path's parameters. Query and key tables start equal, so that from the first step a
        position whose previous ids equal the current ids scores high: the path begins as an induction
        head (Olsson et al. 2022) and training only has to learn when and where to trust it. The gate
        starts nearly closed (bias 3: 95 % of the mass stays with the vocabulary, whatever the scores), so
        a trained decoder that gains the path predicts almost as before until the path has learned."""
        hidden = self.shape['hidden']
        token = torch.randn(vocab_size, dim) * match_std
        prev = torch.randn(vocab_size, dim) * match_std
        self.params['copy_query'] = torch.nn.Parameter(torch.randn(hidden, dim) * 0.02)
        self.params['copy_query_token'] = torch.nn.Parameter(token.clone())
        self.params['copy_query_prev'] = torch.nn.Parameter(prev.clone())
        self.params['copy_key_token'] = torch.nn.Parameter(token)
        self.params['copy_key_prev'] = torch.nn.Parameter(prev)
        self.params['copy_gate'] = torch.nn.Parameter(torch.zeros(hidden))
        self.params['copy_gate_bias'] = torch.nn.Parameter(torch.full((1,), 3.0))

    @property
    def has_copy(self):
        return 'copy_query' in self.params

    def rms_norm(self, x, weight):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.shape['rms_eps']) * weight

    def forward(self, ids):
        """Log-probabilities of the next id at every position, [batch, n, vocab] (what the graph's
        `logits` output holds: with the copy path they are log p of the mixture, without it plain logits)."""
        hidden, logits = self.hidden_and_logits(ids)
        if not self.has_copy:
            return logits
        scores, gate = self.copy_scores(ids, hidden)
        batch, n = ids.shape
        keep = torch.sigmoid(gate)[..., None]
        # The gate's share goes to the vocabulary; the rest to the ids at the positions the path points at.
        mixture = torch.softmax(logits, dim=-1) * keep
        mixture = mixture.scatter_add(-1, ids[:, None, :].expand(batch, n, n), torch.softmax(scores, dim=-1) * (1 - keep))
        return torch.log(mixture.clamp_min(MIN_PROB))

    def target_log_probs(self, ids, targets):
        """log p(targets) at every position, [batch, n] (a target of -100 gives 0): the training loss
        without building the [batch, n, vocab] mixture."""
        hidden, logits = self.hidden_and_logits(ids)
        safe = targets.clamp_min(0)
        vocab = torch.log_softmax(logits, dim=-1).gather(-1, safe[..., None])[..., 0]
        if self.has_copy:
            scores, gate = self.copy_scores(ids, hidden)
            matches = ids[:, None, :] == safe[:, :, None]
            copied = (torch.softmax(scores, dim=-1) * matches).sum(-1)
            vocab = torch.logaddexp(vocab + F.logsigmoid(gate), F.logsigmoid(-gate) + torch.log(copied.clamp_min(MIN_PROB)))
        return vocab.masked_fill(targets < 0, 0.0)

    def copy_scores(self, ids, hidden):
        """The copy path (a pointer-generator over the context): scores [batch, n, n] of query position t
        over positions i <= t, and the gate's logit [batch, n] (the vocabulary's share is its sigmoid).
        Position i offers the id at i, keyed by the two ids before it ("smeared" keys; the first id stands
        in before the start); the query holds the current id, the one before it and the final hidden
        state, so matching the last two ids is a dot product of table rows from the start."""
        w = self.params
        batch, n = ids.shape
        prev1 = torch.cat([ids[:, :1], ids[:, :-1]], dim=1)
        prev2 = torch.cat([ids[:, :1], ids[:, :1], ids[:, :-2]], dim=1)[:, :n]
        dim = w['copy_query'].shape[1]
        query = hidden @ w['copy_query'] + w['copy_query_token'][ids] + w['copy_query_prev'][prev1]
        keys = w['copy_key_token'][prev1] + w['copy_key_prev'][prev2]
        scores = (query @ keys.transpose(1, 2)) * (1.0 / math.sqrt(dim))
        positions = torch.arange(n, device=ids.device)
        scores = scores.masked_fill(positions[None, :] > positions[:, None], float('-inf'))
        return scores, hidden @ w['copy_gate'] + w['copy_gate_bias']

    def hidden_and_logits(self, ids):
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
        hidden = self.rms_norm(x, w['final_norm'])
        return hidden, hidden @ w['lm_head']

    @staticmethod
    def exported_name(name):
        """`layers_0_attn_norm` (a ParameterDict key cannot hold dots) -> `layers.0.attn_norm`."""
        return name.replace('layers_', 'layers.', 1).replace('_', '.', 1) if name.startswith('layers_') else name

    def export_weights(self):
        return {self.exported_name(name): value.detach().float().cpu().numpy() for name, value in self.params.items()}

    def load_weights(self, weights):
        """The inverse of export_weights: arrays by exported name (a weights.npz, or read_weights of a
        model.onnx). Weights of a decoder without the copy path leave this one's copy path as initialized."""
        missing = []
        with torch.no_grad():
            for name, value in self.params.items():
                exported = self.exported_name(name)
                if exported in weights:
                    value.copy_(torch.from_numpy(np.asarray(weights[exported], dtype=np.float32)))
                elif name.startswith('copy_'):
                    missing.append(name)
                else:
                    raise SystemExit(f'the initial weights have no {exported}')
        return missing


def read_weights(path):
    """Weights by exported name from a weights.npz, or from a model.onnx that export_model.py wrote
    (its float16 initializers `w16.NAME`): a bundled model can be trained further without its run folder."""
    if not path.endswith('.onnx'):
        loaded = np.load(path)
        return {name: loaded[name] for name in loaded.files}
    import onnx
    from onnx import numpy_helper
    graph = onnx.load(path).graph
    return {init.name[len('w16.'):]: numpy_helper.to_array(init).astype(np.float32)
            for init in graph.initializer if init.name.startswith('w16.')}


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
        return rows_to_batch([self.example(i) for i in order])

    def packed(self, rng):
        """One row of whole traces back to back, up to the training length: the only way the global
        layers see positions past a single trace's length (the traces here average ~530 ids). The loss
        skips each trace's prompt, as in an unpacked row."""
        ids, weights = [], []
        while len(ids) < self.seq_len + 1:
            trace, prompt = self.example(int(rng.integers(len(self.index))))
            room = self.seq_len + 1 - len(ids)
            ids.extend(trace[:room].tolist())
            weights.extend(([0] * prompt + [1] * len(trace))[:min(room, len(trace))])
        inputs = torch.tensor([ids[:-1]])
        targets = torch.tensor([[t if w else -100 for t, w in zip(ids[1:], weights[1:])]])
        return inputs, targets

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
            current.append(int(i))
        if current:
            out.append(current)
        rng.shuffle(out)
        return out


def rows_to_batch(examples):
    """(ids, prompt length) rows to inputs and targets; position t predicts ids[t + 1], and only ids
    after the prompt count."""
    width = max(len(ids) for ids, _ in examples) - 1
    inputs = np.zeros((len(examples), width), dtype=np.int64)
    targets = np.full((len(examples), width), -100, dtype=np.int64)
    for row, (ids, prompt) in enumerate(examples):
        inputs[row, :len(ids) - 1] = ids[:-1]
        target = np.asarray(ids[1:]).copy()
        target[:max(0, prompt - 1)] = -100
        targets[row, :len(ids) - 1] = target
    return torch.from_numpy(inputs), torch.from_numpy(targets)


def copy_rows(rng, rows, length, id_limit, min_segment=16, max_segment=64):
    """The copy task: random ids with one segment of random ids written twice at random places. Only
    the second copy is a target, from its second id on (its first id cannot be known); nothing about
    where it starts is fixed, so only matching content solves it."""
    inputs = rng.integers(0, id_limit, size=(rows, length + 1))
    targets = np.full((rows, length), -100, dtype=np.int64)
    for row in range(rows):
        size = int(rng.integers(min_segment, max_segment + 1))
        first = int(rng.integers(0, length + 1 - 2 * size))
        second = int(rng.integers(first + size, length + 2 - size))
        segment = rng.integers(0, id_limit, size=size)
        inputs[row, first:first + size] = segment
        inputs[row, second:second + size] = segment
        targets[row, second:second + size - 1] = segment[1:]
    return torch.from_numpy(inputs[:, :length].astype(np.int64)), torch.from_numpy(targets)


def copy_probe(model, seed=12345, rows=32, length=512, id_limit=2037):
    """Greedy accuracy on the second copy of held-out copy rows (a seed training never uses)."""
    inputs, targets = copy_rows(np.random.default_rng(seed), rows, length, id_limit)
    model.eval()
    with torch.no_grad():
        predicted = model(inputs.to(DEVICE)).argmax(-1).cpu()
    model.train()
    scored = targets != -100
    return float((predicted[scored] == targets[scored]).float().mean())


def mean_loss(model, inputs, targets):
    log_probs = model.target_log_probs(inputs, targets)
    return -log_probs.sum() / max(1, int((targets != -100).sum()))


def evaluate(model, traces, tokens_per_batch):
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for order in traces.batches(np.random.default_rng(0), tokens_per_batch):
            inputs, targets = (tensor.to(DEVICE) for tensor in traces.batch(order))
            total -= float(model.target_log_probs(inputs, targets).sum())
            count += int((targets != -100).sum())
    model.train()
    return total / max(1, count)


def write_reference(model, heldout, path, length=48):
    """Log-probabilities of the first held-out trace's first ids, computed with the weights rounded to
    float16 as the ONNX file stores them: the runtime's test checks that the exported graph computes the
    same. The copy path only shows once an id repeats, which 48 ids of a trace do."""
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


def save_atomically(write, path):
    """A file that is either the old one or the new one whole, even if the run is killed while writing."""
    root, extension = os.path.splitext(path)
    temporary = root + '.tmp' + extension  # np.savez would add .npz to a name not ending in it
    write(temporary)
    os.replace(temporary, path)


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
    parser.add_argument('--init', help='weights.npz of an earlier run, or a model.onnx of export_model.py, to start from '
                                       '(its shape must match; a decoder without the copy path gets a fresh one)')
    parser.add_argument('--max-minutes', type=float, default=0, help='stop early after this long (0: never); recorded in run.json')
    parser.add_argument('--copy-dim', type=int, default=SHAPE['copy_dim'], help='width of the copy path (0: a plain decoder)')
    parser.add_argument('--copy-every', type=int, default=0, help='every Nth step trains on the copy task instead of traces (0: never)')
    parser.add_argument('--copy-only', action='store_true', help='train on the copy task alone (to measure how fast copying forms)')
    parser.add_argument('--pack-every', type=int, default=0, help='every Nth trace step is one row of traces packed to --seq-len (0: never)')
    parser.add_argument('--checkpoint-minutes', type=float, default=5, help='how often the resumable checkpoint is written')
    parser.add_argument('--resume', action='store_true', help='continue from OUT/checkpoint.pt when it exists')
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    train = Traces(args.data, args.seq_len)
    heldout = Traces(args.heldout, args.seq_len, args.heldout_traces)
    global DEVICE
    DEVICE = torch.device(args.device)
    shape = dict(SHAPE, copy_dim=args.copy_dim)
    model = Decoder(args.vocab_size, shape)
    if args.init:
        fresh = model.load_weights(read_weights(args.init))
        if fresh:
            print(f'{args.init} has no copy path: it starts as initialized ({", ".join(fresh)})', file=sys.stderr)
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
    # Everything the loop needs to go on where it stopped: a resumed run takes the same batches in the
    # same order as one that never stopped.
    state = {'step': 0, 'epoch': 0, 'pending': [], 'seen_tokens': 0, 'seconds': 0.0, 'sessions': 0}
    checkpoint_path = os.path.join(args.out, 'checkpoint.pt')
    if args.resume and os.path.exists(checkpoint_path):
        checkpoint = torch.load(checkpoint_path)
        model.load_state_dict(checkpoint['model'])
        optimizer.load_state_dict(checkpoint['optimizer'])
        rng.bit_generator.state = checkpoint['rng']
        torch.set_rng_state(checkpoint['torch_rng'])
        state = checkpoint['state']
        print(f'resumed from {checkpoint_path} at step {state["step"]}', file=sys.stderr)
    state['sessions'] += 1
    log = open(os.path.join(args.out, 'log.jsonl'), 'a' if state['step'] else 'w', encoding='utf-8')
    started = time.time() - state['seconds']
    last_checkpoint = time.time()
    stopped_early = False

    def record(entry):
        log.write(json.dumps(entry) + '\n')
        log.flush()
        print(json.dumps(entry), flush=True)

    def save():
        save_atomically(lambda path: np.savez(path, **model.export_weights()), os.path.join(args.out, 'weights.npz'))
        write_reference(model, heldout, os.path.join(args.out, 'reference.json'))

    def checkpoint():
        state['seconds'] = time.time() - started
        save_atomically(lambda path: torch.save({'model': model.state_dict(), 'optimizer': optimizer.state_dict(),
                                                 'rng': rng.bit_generator.state, 'torch_rng': torch.get_rng_state(),
                                                 'state': state}, path), checkpoint_path)

    def heldout_entry(step):
        entry = {'step': step, 'heldout_loss': round(evaluate(model, heldout, args.tokens_per_batch), 4)}
        if model.has_copy or args.copy_only:
            entry['copy_probe'] = round(copy_probe(model), 4)
        entry['seconds'] = round(time.time() - started, 1)
        return entry

    last_step = min(args.steps, args.stop_at) if args.stop_at else args.steps
    recent = {}
    while state['step'] < last_step:
        step = state['step']
        if args.copy_only or (args.copy_every and step % args.copy_every == args.copy_every - 1):
            inputs, targets = copy_rows(rng, max(1, args.tokens_per_batch // 256), 256, 2037)
            kind = 'copy'
        elif args.pack_every and step % args.pack_every == args.pack_every - 1:
            inputs, targets = train.packed(rng)
            kind = 'packed'
        else:
            if not state['pending']:
                state['pending'] = train.batches(rng, args.tokens_per_batch)
                state['epoch'] += 1
            inputs, targets = train.batch(state['pending'].pop())
            kind = 'traces'
        inputs, targets = inputs.to(DEVICE), targets.to(DEVICE)
        for group in optimizer.param_groups:
            group['lr'] = lr_at(step)
        loss = mean_loss(model, inputs, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        state['seen_tokens'] += int(inputs.numel())
        state['step'] = step = step + 1
        elapsed = time.time() - started
        recent.setdefault(kind, []).append(float(loss))
        if step % 10 == 0 or step == 1:
            # The mean loss of each kind of step since the last line (one kind alone would always be
            # the copy task, which falls on every tenth step).
            losses = {f'loss_{name}': round(sum(values) / len(values), 4) for name, values in sorted(recent.items())}
            recent.clear()
            record({'step': step, 'epoch': state['epoch'], **losses, 'lr': round(lr_at(step - 1), 6),
                    'tokens': state['seen_tokens'], 'seconds': round(elapsed, 1), 'tokens_per_second': round(state['seen_tokens'] / elapsed)})
        if step % args.eval_every == 0 or step == last_step:
            record(heldout_entry(step))
            save()
        if time.time() - last_checkpoint > args.checkpoint_minutes * 60 or step == last_step:
            checkpoint()
            last_checkpoint = time.time()
        if args.max_minutes and elapsed > args.max_minutes * 60 and step < last_step:
            stopped_early = True
            record(dict(heldout_entry(step), stopped_early=True))
            save()
            checkpoint()
            break

    run = {
        'shape': shape,
        'vocab_size': args.vocab_size,
        'parameters': params,
        'steps': state['step'],
        'planned_steps': args.steps,
        'stop_at': args.stop_at,
        'stopped_early': stopped_early,
        'epochs': state['epoch'],
        'tokens_seen': state['seen_tokens'],
        'train_traces': len(train.index),
        'train_tokens': int(len(train.ids)),
        'heldout_traces': len(heldout.index),
        'seq_len': args.seq_len,
        'tokens_per_batch': args.tokens_per_batch,
        'lr': args.lr,
        'copy_every': args.copy_every,
        'copy_only': args.copy_only,
        'pack_every': args.pack_every,
        'seed': args.seed,
        'init': args.init,
        'threads': args.threads,
        'sessions': state['sessions'],
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
