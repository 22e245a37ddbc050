#!/usr/bin/env python3
"""Trains the bundled model's byte-level BPE tokenizer on CWM-format training traces.

    python3 kernels/train_tokenizer.py --data build/train/train.jsonl --vocab-size 2048 \
        --out build/train/tokenizer.json

--data holds JSON lines with a "text" field (what `neural-debug dataset` writes): prompts and traces with
CWM's special tokens spelled out. The special tokens become added tokens and never take part in merges:
the text is cut at them first. Only the first --max-chars characters of the data are read, which keeps
training to a minute; the merges of a 2k vocabulary settle long before that.
"""
import argparse
import json
import re
import sys

from cwm_tokenizer import ADDED_TOKENS, build_vocab, tokenizer_json, train_bpe

SPECIAL_SPLIT = re.compile('|'.join(re.escape(token) for token in ADDED_TOKENS))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', required=True)
    parser.add_argument('--vocab-size', type=int, default=2048, help='ids in all: 256 bytes + merges + added tokens')
    parser.add_argument('--max-chars', type=int, default=6_000_000)
    parser.add_argument('--out', required=True)
    args = parser.parse_args(argv)
    parts = []
    read = 0
    with open(args.data, encoding='utf-8') as handle:
        for line in handle:
            text = json.loads(line)['text']
            parts.extend(part for part in SPECIAL_SPLIT.split(text) if part)
            read += len(text)
            if read >= args.max_chars:
                break
    num_merges = args.vocab_size - 256 - len(ADDED_TOKENS)
    merges = train_bpe(parts, num_merges)
    vocab = build_vocab(merges)
    with open(args.out, 'w', encoding='utf-8') as out:
        out.write(json.dumps(tokenizer_json(vocab, merges), ensure_ascii=False, indent=1) + '\n')
    print(f'{len(merges)} merges from {read} characters; {len(vocab) + len(ADDED_TOKENS)} ids -> {args.out}', file=sys.stderr)


if __name__ == '__main__':
    main(sys.argv[1:])
