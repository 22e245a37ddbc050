"""Tells whether pairs of Python reprs stand for the same value, WITHOUT running anything they say.

The evaluation compares a model's predicted return value with the expected one. Both are text and one
of them comes from a model, so each is read with ast.literal_eval only (never eval). Reads [[a, b], ...]
as JSON on stdin and writes one answer per pair as JSON on stdout: true or false when both sides are
literals, null when either is not (the caller then compares the text).
"""
import ast
import json
import sys

# literal_eval's own failures, and what a hostile or absurd literal can raise while being built.
NOT_A_LITERAL = (ValueError, TypeError, SyntaxError, MemoryError, RecursionError, OverflowError)


def read(text):
    """(True, value) for a literal, (False, None) for anything else."""
    try:
        # Python 3.8 refuses leading blanks in eval mode; a repr never has them, a model's output might.
        return True, ast.literal_eval(text.strip(" \t"))
    except NOT_A_LITERAL:
        return False, None


def same(x, y):
    """Equal as values and of the same types all the way down: True is not 1, and [1] is not [1.0]."""
    if type(x) is not type(y):
        return False
    if isinstance(x, (list, tuple)):
        return len(x) == len(y) and all(same(a, b) for a, b in zip(x, y))
    if isinstance(x, dict):
        return x.keys() == y.keys() and all(same(value, y[key]) for key, value in x.items())
    return x == y


def answer(a, b):
    ok_a, x = read(a)
    ok_b, y = read(b)
    if not (ok_a and ok_b):
        return None
    try:
        return same(x, y)
    except RecursionError:
        return None


def main():
    pairs = json.loads(sys.stdin.read())
    sys.stdout.write(json.dumps([answer(a, b) for a, b in pairs]))


main()
