#!/usr/bin/env python3
"""Gives the variables and helper functions of each training trace fresh random names, consistently
through the prompt and the trace.

    python3 kernels/rename_identifiers.py --data build/train/train.jsonl --seed 1 --out build/train/train-renamed.jsonl

Why: the generator draws names from short lists, so a model can guess `total` or `text` without
reading the program, and stops short of learning to copy from its context, which is what it most
needs on real code (CruxEval names its variables differently). With random names, the only way to
write a frame's keys and source lines is to copy them from the prompt and the previous frame.

A rename must describe a program that really runs that way, so it is applied only where it cannot
change what the program does: local names (the JSON keys of the frames) and helper functions (`def`
lines), never `f` or `main`, never a name right after a dot (a method or attribute), and never a name
that occurs inside a quoted string anywhere in the text (a string value or an exception message would
otherwise disagree with the renamed code). The new names are random lowercase identifiers that are not
keywords or builtins and appear nowhere in the text. Each row is renamed from its own seeded
generator: the output depends only on the input and --seed.
"""
import argparse
import builtins
import json
import keyword
import random
import re
import sys

KEY = re.compile(r'"([A-Za-z_][A-Za-z0-9_]*)": "')
DEF = re.compile(r'\bdef ([A-Za-z_][A-Za-z0-9_]*)\(')
QUOTED = re.compile(r"'[^'\\\n]*(?:\\.[^'\\\n]*)*'")
WORD = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')
RESERVED = set(keyword.kwlist) | set(dir(builtins)) | {'f', 'main', 'self'}


def fresh_name(rng, taken):
    while True:
        length = rng.choice([1, 2, 3, 3, 4, 5, 6, 7, 8])
        name = ''.join(rng.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(length))
        if rng.random() < 0.2:
            name += '_' + ''.join(rng.choice('abcdefghijklmnopqrstuvwxyz0123456789') for _ in range(rng.randint(1, 3)))
        if name not in RESERVED and name not in taken:
            taken.add(name)
            return name


def rename(text, rng):
    names = set(KEY.findall(text)) | set(DEF.findall(text))
    inside_strings = {word for quoted in QUOTED.findall(text) for word in WORD.findall(quoted)}
    names = sorted(name for name in names if name not in RESERVED and name not in inside_strings)
    if not names:
        return text
    taken = set(WORD.findall(text))
    mapping = {name: fresh_name(rng, taken) for name in names}
    pattern = re.compile(r'(?<![A-Za-z0-9_.])(' + '|'.join(re.escape(name) for name in names) + r')(?![A-Za-z0-9_])')
    return pattern.sub(lambda match: mapping[match.group(1)], text)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', required=True)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--out', required=True)
    args = parser.parse_args(argv)
    count = 0
    with open(args.data, encoding='utf-8') as source, open(args.out, 'w', encoding='utf-8') as out:
        for line in source:
            row = json.loads(line)
            rng = random.Random(f'{args.seed}:{row["id"]}')
            row['text'] = rename(row['text'], rng)
            out.write(json.dumps(row) + '\n')
            count += 1
    print(f'renamed identifiers in {count} traces -> {args.out}', file=sys.stderr)


if __name__ == '__main__':
    main(sys.argv[1:])
