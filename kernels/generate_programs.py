#!/usr/bin/env python3
"""Writes random CruxEval-style programs (a function `f` plus the argument text of one call) as JSON lines.

The programs exercise what a debugger user steps through: arithmetic, branches, for and while loops,
nested calls, recursion, lists, dicts, strings and their methods, and exceptions (caught and not). Every
program is drawn from a seeded random.Random, so the same --seed and --count give byte-identical output
on any machine and Python 3.8+ (only the standard library is used; no set or dict iteration order that
depends on hashing decides anything).

Nothing here runs the programs: the trace step (`neural-debug dataset`) does, with our own tracer.

No CruxEval program may enter training. Programs are checked against the rows of every --exclude file:
one whose normalized code (comments and all whitespace removed) equals a CruxEval program's, or whose
set of normalized lines overlaps one's by more than --max-overlap (Jaccard), is dropped and counted.

    python3 kernels/generate_programs.py --seed 1 --count 20000 \
        --exclude ../shared/data/cruxeval-dev.jsonl --out build/train/programs.jsonl
"""
import argparse
import json
import random
import re
import sys

LETTERS = 'abcdefghijklmnopqrstuvwxyz'
WORDS = ['apple', 'bob', 'cat', 'dog', 'egg', 'fig', 'hello', 'world', 'python', 'code', 'data', 'x', 'abc',
         'tree', 'sun', 'moon', 'star', 'red', 'blue', 'key', 'val', 'zip', 'top', 'map', 'one', 'two']


class Program:
    """Builds one function body while tracking the type of every local variable."""

    def __init__(self, rng):
        self.rng = rng
        self.lines = []
        self.helpers = []
        self.vars = {}  # name -> 'int' | 'str' | 'list' (of int) | 'strs' (list of str) | 'dict' | 'bool'
        self.counter = 0

    # ----- names and values -------------------------------------------------------------------------
    def fresh(self, kind):
        stems = {'int': ['n', 'count', 'total', 'i', 'k', 'acc', 'res', 'num', 'm'],
                 'str': ['s', 'text', 'out', 'word', 'res', 'tmp', 'name', 'line'],
                 'list': ['nums', 'xs', 'arr', 'items', 'result', 'vals', 'data'],
                 'strs': ['words', 'parts', 'chars', 'tokens', 'names'],
                 'dict': ['d', 'counts', 'seen', 'table', 'mapping'],
                 'bool': ['flag', 'ok', 'found', 'done']}[kind]
        for _ in range(10):
            name = self.rng.choice(stems)
            if name not in self.vars:
                return name
        self.counter += 1
        return f'{stems[0]}{self.counter}'

    def pick(self, *kinds):
        names = [name for name, kind in self.vars.items() if kind in kinds]
        return self.rng.choice(names) if names else None

    def small_int(self):
        return self.rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20, 25, 100, -1, -3])

    def word(self):
        return self.rng.choice(WORDS) if self.rng.random() < 0.6 else ''.join(
            self.rng.choice(LETTERS) for _ in range(self.rng.randint(1, 6)))

    def char(self):
        return self.rng.choice(LETTERS[:8] + ' .,-_!0123')

    def literal(self, kind):
        r = self.rng
        if kind == 'int':
            return repr(r.randint(-20, 60) if r.random() < 0.8 else r.randint(-999, 999))
        if kind == 'str':
            w = self.word()
            return repr(w.upper() if r.random() < 0.2 else w.capitalize() if r.random() < 0.2 else w)
        if kind == 'list':
            return repr([r.randint(-9, 20) for _ in range(r.randint(0, 7))])
        if kind == 'strs':
            return repr([self.word() for _ in range(r.randint(0, 5))])
        if kind == 'dict':
            return repr({self.word(): r.randint(0, 9) for _ in range(r.randint(0, 4))})
        return repr(r.random() < 0.5)

    def emit(self, depth, text):
        self.lines.append('    ' * depth + text)

    # ----- expressions per type ---------------------------------------------------------------------
    def int_expr(self):
        r = self.rng
        a, s, xs, ws, d = self.pick('int'), self.pick('str'), self.pick('list'), self.pick('strs'), self.pick('dict')
        options = [lambda: repr(self.small_int())]
        if a:
            b = self.pick('int')
            options += [lambda: f'{a} + {b}', lambda: f'{a} * {self.rng.randint(2, 4)}', lambda: f'{a} - {self.small_int()}',
                        lambda: f'{a} // {self.rng.randint(2, 5)}', lambda: f'{a} % {self.rng.randint(2, 7)}',
                        lambda: f'abs({a})', lambda: f'{a} ** 2', lambda: f'max({a}, {b})', lambda: f'min({a}, {self.small_int()})']
        if s:
            options += [lambda: f'len({s})', lambda: f'{s}.count({self.char()!r})', lambda: f'{s}.find({self.char()!r})']
        if xs:
            options += [lambda: f'len({xs})', lambda: f'sum({xs})', lambda: f'{xs}.count({self.small_int()})']
        if ws:
            options += [lambda: f'len({ws})']
        if d:
            options += [lambda: f'len({d})', lambda: f'{d}.get({self.word()!r}, {self.small_int()})']
        return r.choice(options)()

    def str_expr(self):
        r = self.rng
        s, ws, a, xs = self.pick('str'), self.pick('strs'), self.pick('int'), self.pick('list')
        options = [lambda: self.literal('str')]
        if s:
            options += [lambda: f'{s}.upper()', lambda: f'{s}.lower()', lambda: f'{s}.strip()', lambda: f'{s}[::-1]',
                        lambda: f'{s}.replace({self.char()!r}, {self.char()!r})', lambda: f'{s}.capitalize()',
                        lambda: f'{s}.title()', lambda: f'{s}.swapcase()', lambda: f'{s} + {self.literal("str")}',
                        lambda: f'{s}[{r.randint(0, 3)}:{r.randint(2, 8)}]', lambda: f'{s} * {r.randint(2, 3)}',
                        lambda: f'{s}.center({r.randint(4, 12)}, {self.char()!r})', lambda: f'{s}.zfill({r.randint(3, 9)})',
                        lambda: f'{s}.lstrip({self.char()!r})', lambda: f'{s}.rstrip({self.word()[:2]!r})',
                        lambda: f'{s}.ljust({r.randint(3, 9)}, {self.char()!r})']
        if ws:
            options += [lambda: f'{self.rng.choice(["", " ", "-", ", "])!r}.join({ws})']
        if a:
            options += [lambda: f'str({a})']
        if xs:
            options += [lambda: f'str(len({xs}))']
        return r.choice(options)()

    def list_expr(self):
        r = self.rng
        xs, a, s = self.pick('list'), self.pick('int'), self.pick('str')
        options = [lambda: self.literal('list')]
        if xs:
            options += [lambda: f'sorted({xs})', lambda: f'{xs}[{r.randint(0, 2)}:]', lambda: f'{xs}[::-1]',
                        lambda: f'[x * {r.randint(2, 3)} for x in {xs}]', lambda: f'[x for x in {xs} if x % 2 == {r.randint(0, 1)}]',
                        lambda: f'{xs} + [{self.small_int()}]', lambda: f'list(set({xs}))' if r.random() < 0.2 else f'{xs}[:{r.randint(1, 4)}]',
                        lambda: f'sorted({xs}, reverse=True)']
        if a:
            options += [lambda: f'list(range({a} % {r.randint(4, 8)}))']
        if s:
            options += [lambda: f'[ord(c) for c in {s}]' if r.random() < 0.3 else f'[len({s})]']
        return r.choice(options)()

    def strs_expr(self):
        r = self.rng
        s, ws = self.pick('str'), self.pick('strs')
        options = [lambda: self.literal('strs')]
        if s:
            options += [lambda: f'{s}.split()', lambda: f'list({s})', lambda: f'{s}.split({self.char()!r})']
        if ws:
            options += [lambda: f'sorted({ws})', lambda: f'[w.upper() for w in {ws}]', lambda: f'{ws}[::-1]']
        return r.choice(options)()

    def cond_expr(self):
        r = self.rng
        a, s, xs, d, ws = self.pick('int'), self.pick('str'), self.pick('list'), self.pick('dict'), self.pick('strs')
        options = []
        if a:
            options += [lambda: f'{a} > {self.small_int()}', lambda: f'{a} % 2 == 0', lambda: f'{a} == {self.small_int()}',
                        lambda: f'{a} < {self.pick("int")}', lambda: f'{a} != 0']
        if s:
            options += [lambda: f'{self.char()!r} in {s}', lambda: f'{s}.isupper()', lambda: f'{s}.isdigit()',
                        lambda: f'{s}.startswith({self.word()[:2]!r})', lambda: f'len({s}) > {r.randint(1, 6)}',
                        lambda: f'{s}.isalpha()', lambda: f'{s} == {s}[::-1]']
        if xs:
            options += [lambda: f'len({xs}) > {r.randint(0, 4)}', lambda: f'{self.small_int()} in {xs}', lambda: f'not {xs}']
        if d:
            options += [lambda: f'{self.word()!r} in {d}']
        if ws:
            options += [lambda: f'{self.word()!r} in {ws}']
        if not options:
            return 'True'
        cond = r.choice(options)()
        if r.random() < 0.15 and options:
            cond = f'{cond} and {r.choice(options)()}' if r.random() < 0.5 else f'{cond} or {r.choice(options)()}'
        return cond

    EXPRS = {'int': 'int_expr', 'str': 'str_expr', 'list': 'list_expr', 'strs': 'strs_expr', 'bool': 'cond_expr'}

    def expr(self, kind):
        if kind == 'dict':
            return self.literal('dict') if self.rng.random() < 0.7 else '{}'
        return getattr(self, self.EXPRS[kind])()

    # ----- statements -------------------------------------------------------------------------------
    def assign(self, depth, new=None):
        kind = self.rng.choice(['int', 'int', 'str', 'str', 'list', 'strs', 'dict', 'bool'])
        target = self.pick(kind) if not new and self.rng.random() < 0.5 else None
        value = self.expr(kind)
        target = target or self.fresh(kind)
        self.emit(depth, f'{target} = {value}')
        self.vars[target] = kind

    def augment(self, depth):
        a = self.pick('int')
        s = self.pick('str')
        if a and (not s or self.rng.random() < 0.6):
            op = self.rng.choice(['+=', '-=', '*=', '+=', '//='])
            value = self.rng.randint(2, 3) if op in ('*=', '//=') else self.int_expr()
            self.emit(depth, f'{a} {op} {value}')
        elif s:
            self.emit(depth, f'{s} += {self.str_expr()}')
        else:
            self.assign(depth)

    def mutate(self, depth):
        r = self.rng
        xs, ws, d = self.pick('list'), self.pick('strs'), self.pick('dict')
        options = []
        if xs:
            options += [lambda: f'{xs}.append({self.int_expr()})', lambda: f'{xs}.insert({r.randint(0, 2)}, {self.small_int()})',
                        lambda: f'{xs}.sort()', lambda: f'{xs}.reverse()', lambda: f'{xs}.extend({self.literal("list")})',
                        lambda: f'{xs}.pop()' if r.random() < 0.5 else f'{xs}.remove({self.small_int()})',
                        lambda: f'{xs}[{r.randint(0, 2)}] = {self.int_expr()}', lambda: f'del {xs}[0]']
        if ws:
            options += [lambda: f'{ws}.append({self.str_expr()})', lambda: f'{ws}.sort()', lambda: f'{ws}.insert(0, {self.word()!r})']
        if d:
            options += [lambda: f'{d}[{self.word()!r}] = {self.int_expr()}', lambda: f'{d}.pop({self.word()!r}, None)',
                        lambda: f'{d}.update({self.literal("dict")})', lambda: f'{d}.setdefault({self.word()!r}, {self.small_int()})']
        if not options:
            return self.assign(depth)
        self.emit(depth, r.choice(options)())

    def for_loop(self, depth, budget):
        r = self.rng
        xs, ws, s, d, a = self.pick('list'), self.pick('strs'), self.pick('str'), self.pick('dict'), self.pick('int')
        choices = []
        if xs:
            choices.append(('x', 'int', xs))
        if ws:
            choices.append(('w', 'str', ws))
        if s:
            choices.append(('c', 'str', s))
        if d:
            choices.append(('key', 'str', f'{d}' if r.random() < 0.5 else f'list({d}.keys())'))
        if a:
            choices.append(('i', 'int', f'range({a} % {r.randint(3, 7)})'))
        choices.append(('i', 'int', f'range({r.randint(1, 6)})'))
        name, kind, iterable = r.choice(choices)
        if name in self.vars:
            name = name + '2'
        if xs and r.random() < 0.15:
            self.emit(depth, f'for i, {name} in enumerate({xs}):')
            self.vars['i'] = 'int'
            kind = 'int'
        else:
            self.emit(depth, f'for {name} in {iterable}:')
        self.vars[name] = kind
        self.block(depth + 1, max(1, budget - 1), loop=True)

    def while_loop(self, depth, budget):
        a = self.fresh('int')
        self.emit(depth, f'{a} = {self.rng.randint(0, 5)}')
        self.vars[a] = 'int'
        limit = self.rng.randint(1, 6)
        self.emit(depth, f'while {a} < {limit}:')
        self.block(depth + 1, max(1, budget - 1), loop=True)
        self.emit(depth + 1, f'{a} += {self.rng.randint(1, 2)}')

    def branch(self, depth, budget, loop):
        self.emit(depth, f'if {self.cond_expr()}:')
        self.block(depth + 1, max(1, budget // 2), loop)
        roll = self.rng.random()
        if roll < 0.25:
            self.emit(depth, f'elif {self.cond_expr()}:')
            self.block(depth + 1, 1, loop)
        if roll < 0.6:
            self.emit(depth, 'else:')
            self.block(depth + 1, 1, loop)

    def try_block(self, depth):
        r = self.rng
        s, xs, d = self.pick('str'), self.pick('list'), self.pick('dict')
        risky = [(f'int({s})', 'ValueError', 'int')] if s else []
        if xs:
            risky += [(f'{xs}.index({self.small_int()})', 'ValueError', 'int'), (f'{xs}[{r.randint(0, 8)}]', 'IndexError', 'int'),
                      (f'{self.small_int()} // len({xs})', 'ZeroDivisionError', 'int')]
        if d:
            risky += [(f'{d}[{self.word()!r}]', 'KeyError', 'int')]
        if not risky:
            return self.assign(depth)
        expr, error, kind = r.choice(risky)
        target = self.fresh(kind)
        self.emit(depth, 'try:')
        self.emit(depth + 1, f'{target} = {expr}')
        self.emit(depth, f'except {error}:' if r.random() < 0.8 else 'except Exception:')
        self.emit(depth + 1, f'{target} = {self.small_int()}')
        self.vars[target] = kind

    def loop_control(self, depth):
        self.emit(depth, f'if {self.cond_expr()}:')
        self.emit(depth + 1, self.rng.choice(['break', 'continue', 'break']))

    def statement(self, depth, budget, loop):
        r = self.rng.random()
        if depth < 3 and budget >= 2:
            if r < 0.22:
                return self.for_loop(depth, budget)
            if r < 0.32:
                return self.branch(depth, budget, loop)
            if r < 0.36:
                return self.while_loop(depth, budget)
        if r < 0.42:
            return self.try_block(depth)
        if loop and r < 0.48:
            return self.loop_control(depth)
        if r < 0.62:
            return self.mutate(depth)
        if r < 0.74:
            return self.augment(depth)
        if self.helpers and r < 0.82:
            return self.call_helper(depth)
        return self.assign(depth)

    def block(self, depth, budget, loop=False):
        for _ in range(self.rng.randint(1, max(1, min(3, budget)))):
            self.statement(depth, budget - 1, loop)

    # ----- helper functions (nested calls, recursion) -----------------------------------------------
    def add_helper(self):
        r = self.rng
        kind = r.choice(['int', 'str', 'list', 'rec', 'rec'])
        name = r.choice(['g', 'h', 'helper', 'step', 'check', 'apply'])
        if any(h[0] == name for h in self.helpers):
            return
        if kind == 'int':
            body = [f'def {name}(a, b):', f'    if a > b:', f'        return a - b', f'    return a + b * {r.randint(1, 3)}']
            self.helpers.append((name, 'int', 2, body))
        elif kind == 'str':
            op = r.choice(['s.upper()', 's[::-1]', "s + '!'", 's.strip()', 's * 2', "s.replace('a', 'o')"])
            body = [f'def {name}(s):', f'    if len(s) > {r.randint(2, 5)}:', f'        return {op}', '    return s']
            self.helpers.append((name, 'str', 1, body))
        elif kind == 'list':
            body = [f'def {name}(xs):', '    out = []', '    for x in xs:', f'        if x > {r.randint(0, 5)}:',
                    f'            out.append(x {r.choice(["*", "+", "-"])} {r.randint(1, 3)})', '    return out']
            self.helpers.append((name, 'list', 1, body))
        else:
            form = r.choice(['fact', 'sum', 'fib', 'digits'])
            if form == 'fact':
                body = [f'def {name}(n):', '    if n <= 1:', '        return 1', f'    return n * {name}(n - 1)']
            elif form == 'sum':
                body = [f'def {name}(n):', '    if n == 0:', '        return 0', f'    return n + {name}(n - 1)']
            elif form == 'fib':
                body = [f'def {name}(n):', '    if n < 2:', '        return n', f'    return {name}(n - 1) + {name}(n - 2)']
            else:
                body = [f'def {name}(n):', '    if n < 10:', '        return n', f'    return n % 10 + {name}(n // 10)']
            self.helpers.append((name, 'rec:' + form, 1, body))

    def call_helper(self, depth):
        name, kind, arity, _ = self.rng.choice(self.helpers)
        if kind == 'int':
            args, result = f'{self.int_expr()}, {self.int_expr()}', 'int'
        elif kind == 'str':
            args, result = self.str_expr(), 'str'
        elif kind == 'list':
            xs = self.pick('list')
            args, result = (xs or self.literal('list')), 'list'
        else:
            cap = {'rec:fact': 6, 'rec:sum': 8, 'rec:fib': 5, 'rec:digits': 9999}[kind]
            a = self.pick('int')
            args = f'{a} % {cap + 1}' if a and kind != 'rec:digits' else (f'abs({a})' if a else repr(self.rng.randint(0, cap)))
            result = 'int'
        target = self.fresh(result)
        self.emit(depth, f'{target} = {name}({args})')
        self.vars[target] = result


def make_program(rng):
    p = Program(rng)
    if rng.random() < 0.35:
        for _ in range(rng.randint(1, 2)):
            p.add_helper()
    kinds = rng.choice([['str'], ['list'], ['strs'], ['int'], ['str', 'int'], ['list', 'int'], ['str', 'str'],
                        ['dict'], ['list', 'str'], ['dict', 'str'], ['strs', 'str'], ['int', 'int']])
    params = []
    for kind in kinds:
        name = p.fresh(kind)
        p.vars[name] = kind
        params.append(name)
    args = ', '.join(p.literal(kind) for kind in kinds)
    p.block(1, rng.randint(2, 6))
    if rng.random() < 0.3:
        p.block(1, 2)
    result = rng.choice(list(p.vars))
    if rng.random() < 0.15 and len(p.vars) > 1:
        other = rng.choice(list(p.vars))
        p.emit(1, f'return {result}, {other}' if other != result else f'return {result}')
    else:
        p.emit(1, f'return {result}')
    code = ''
    for _, _, _, body in p.helpers:
        code += '\n'.join(body) + '\n\n'
    code += f'def f({", ".join(params)}):\n' + '\n'.join(p.lines)
    return code, args


# ----- leakage check against CruxEval -----------------------------------------------------------------

def normalized_lines(code):
    """Lines without comments or any whitespace: `x=1` and `x = 1` are the same line."""
    out = []
    for line in code.split('\n'):
        line = re.sub(r'\s+', '', line.split('#')[0])
        if line:
            out.append(line)
    return out


class Excluder:
    def __init__(self, files, max_overlap):
        self.max_overlap = max_overlap
        self.codes = set()
        self.line_sets = []
        self.index = {}
        for file in files:
            with open(file, encoding='utf-8') as handle:
                for line in handle:
                    if line.strip():
                        self.add(json.loads(line)['code'])

    def add(self, code):
        lines = normalized_lines(code)
        self.codes.add('\n'.join(lines))
        lines_set = frozenset(lines)
        at = len(self.line_sets)
        self.line_sets.append(lines_set)
        for line in lines_set:
            if not line.startswith('def') and not line.startswith('return'):
                self.index.setdefault(line, []).append(at)

    def excluded(self, code):
        lines = normalized_lines(code)
        if '\n'.join(lines) in self.codes:
            return True
        mine = frozenset(lines)
        candidates = sorted({at for line in mine for at in self.index.get(line, [])})
        for at in candidates:
            theirs = self.line_sets[at]
            if len(mine & theirs) / len(mine | theirs) > self.max_overlap:
                return True
        return False


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--count', type=int, default=1000, help='programs to write')
    parser.add_argument('--exclude', action='append', default=[], help='JSON-lines file whose programs must not appear (repeatable)')
    parser.add_argument('--max-overlap', type=float, default=0.5, help='largest line-set Jaccard overlap allowed with an excluded program')
    parser.add_argument('--out', required=True)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    excluder = Excluder(args.exclude, args.max_overlap)
    seen = set()
    written = dropped_leak = dropped_dup = 0
    with open(args.out, 'w', encoding='utf-8') as out:
        while written < args.count:
            code, call_args = make_program(rng)
            key = code + '\0' + call_args
            if key in seen:
                dropped_dup += 1
                continue
            seen.add(key)
            if excluder.excluded(code):
                dropped_leak += 1
                continue
            out.write(json.dumps({'id': f'gen-{args.seed}-{written}', 'code': code, 'input': call_args}) + '\n')
            written += 1
    print(f'{written} programs written to {args.out}; dropped {dropped_dup} repeats and {dropped_leak} too close to an excluded program',
          file=sys.stderr)


if __name__ == '__main__':
    main(sys.argv[1:])
