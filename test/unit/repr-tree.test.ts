/** Python container reprs as trees for the Variables view: nested, tolerant, and linear in time. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseRepr, ReprNode } from '../../src/trace/repr-tree';

/** A compact picture of a tree: atoms as their text, containers as kind plus [key, child] pairs. */
type Shape = string | { [kind: string]: Array<[string, Shape]> };
function shape(node: ReprNode): Shape {
  if (node.kind === 'atom') return node.text;
  return { [node.kind]: node.children.map((child): [string, Shape] => [child.key, shape(child.node)]) };
}

const atom = (text: string): ReprNode => ({ kind: 'atom', text });

/** Every node's text is the exact substring of the repr at the place it was read from. */
function assertTextsAreSubstrings(node: ReprNode, repr: string): void {
  assert.ok(repr.includes(node.text), `${JSON.stringify(node.text)} is not in the repr`);
  if (node.kind === 'atom') return;
  let from = 1;
  for (const child of node.children) {
    const at = node.text.indexOf(child.node.text, from);
    assert.ok(at >= 0, `${JSON.stringify(child.node.text)} not found in order in ${JSON.stringify(node.text)}`);
    from = at + child.node.text.length;
    assertTextsAreSubstrings(child.node, repr);
  }
}

describe('parseRepr', () => {
  it('keeps scalars as atoms with their exact text', () => {
    for (const text of ['42', '-1.5', "'a'", 'None', 'True', '1e-05', "b'\\x00'", 'nan', '-inf', 'Ellipsis']) {
      assert.deepEqual(parseRepr(text), atom(text));
    }
  });

  it('reads lists, tuples, sets and dicts with index or key-repr keys', () => {
    assert.deepEqual(parseRepr("[1, 'a', None]"), {
      kind: 'list',
      text: "[1, 'a', None]",
      children: [{ key: '0', node: atom('1') }, { key: '1', node: atom("'a'") }, { key: '2', node: atom('None') }],
    });
    assert.deepEqual(shape(parseRepr('(1, 2)')), { tuple: [['0', '1'], ['1', '2']] });
    assert.deepEqual(shape(parseRepr('{3, 1}')), { set: [['0', '3'], ['1', '1']] });
    assert.deepEqual(shape(parseRepr("{'a': 1, 2: 'b', (1, 2): None, None: 0, -1.5: True}")), {
      dict: [["'a'", '1'], ['2', "'b'"], ['(1, 2)', 'None'], ['None', '0'], ['-1.5', 'True']],
    });
  });

  it('reads empty containers and the one-element tuple', () => {
    assert.deepEqual(parseRepr('[]'), { kind: 'list', text: '[]', children: [] });
    assert.deepEqual(parseRepr('()'), { kind: 'tuple', text: '()', children: [] });
    assert.deepEqual(parseRepr('{}'), { kind: 'dict', text: '{}', children: [] });
    assert.deepEqual(parseRepr('(1,)'), { kind: 'tuple', text: '(1,)', children: [{ key: '0', node: atom('1') }] });
    assert.deepEqual(shape(parseRepr("[(), ('x',)]")), { list: [['0', { tuple: [] }], ['1', { tuple: [['0', "'x'"]] }]] });
  });

  it('nests, and every node\'s text is the exact substring', () => {
    const repr = "{'rows': [(1, 'x'), (2, [])], 'meta': {'ok': {1, 2}, 'k': {}}, (1, (2,)): [[[]]]}";
    const tree = parseRepr(repr);
    assert.deepEqual(shape(tree), {
      dict: [
        ["'rows'", { list: [['0', { tuple: [['0', '1'], ['1', "'x'"]] }], ['1', { tuple: [['0', '2'], ['1', { list: [] }]] }]] }],
        ["'meta'", { dict: [["'ok'", { set: [['0', '1'], ['1', '2']] }], ["'k'", { dict: [] }]] }],
        ['(1, (2,))', { list: [['0', { list: [['0', { list: [] }]] }]] }],
      ],
    });
    assert.equal(tree.text, repr);
    assertTextsAreSubstrings(tree, repr);
    assert.ok(tree.kind === 'dict');
    assert.equal(tree.children[0].node.text, "[(1, 'x'), (2, [])]");
  });

  it('is not confused by quotes, escapes and brackets inside strings', () => {
    const repr = `['a]b', "it's [", 'x\\'y, z', '{', "say \\"(\\"", '\\\\', b'}', 'k: v']`;
    assert.deepEqual(shape(parseRepr(repr)), {
      list: [['0', "'a]b'"], ['1', `"it's ["`], ['2', "'x\\'y, z'"], ['3', "'{'"], ['4', '"say \\"(\\""'], ['5', "'\\\\'"], ['6', "b'}'"], ['7', "'k: v'"]],
    });
    assert.deepEqual(shape(parseRepr(`{'a: b': '}', "]": 'x'}`)), { dict: [["'a: b'", "'}'"], ['"]"', "'x'"]] });
  });

  it('reads objects in angle brackets as atoms inside containers', () => {
    const repr = "[<Node object at 0x7f3a2c1d0e80>, <function <lambda> at 0x7f00>, <class 'int'>, <a, b> , 1]";
    assert.deepEqual(shape(parseRepr(repr)), {
      list: [['0', '<Node object at 0x7f3a2c1d0e80>'], ['1', '<function <lambda> at 0x7f00>'], ['2', "<class 'int'>"], ['3', '<a, b>'], ['4', '1']],
    });
    assert.deepEqual(shape(parseRepr("{'n': <Node [1, 2)>}")), { dict: [["'n'", '<Node [1, 2)>']] });
  });

  it('keeps values written as calls as atoms, at the top and inside', () => {
    for (const text of ['set()', 'frozenset({1})', "defaultdict(<class 'int'>, {'a': 1})", 'deque([1, 2])', "OrderedDict([('a', 1)])", 'Point(x=1, y=[1, 2])', "bytearray(b'x]')", 'datetime.date(2020, 1, 1)']) {
      assert.deepEqual(parseRepr(text), atom(text));
    }
    assert.deepEqual(shape(parseRepr("[set(), deque([1]), Counter({'a': 1}), frozenset()]")), {
      list: [['0', 'set()'], ['1', 'deque([1])'], ['2', "Counter({'a': 1})"], ['3', 'frozenset()']],
    });
    assert.deepEqual(shape(parseRepr("{Point(x=1): array('i', [1, 2])}")), { dict: [['Point(x=1)', "array('i', [1, 2])"]] });
  });

  it('reads a parenthesized value such as a complex number as an atom, not a tuple', () => {
    assert.deepEqual(parseRepr('(1+2j)'), atom('(1+2j)'));
    assert.deepEqual(shape(parseRepr('[(1+2j), (-0-1j)]')), { list: [['0', '(1+2j)'], ['1', '(-0-1j)']] });
  });

  it('reads recursion markers as atoms', () => {
    assert.deepEqual(parseRepr('[...]'), atom('[...]'));
    assert.deepEqual(shape(parseRepr('[1, [...]]')), { list: [['0', '1'], ['1', '[...]']] });
    assert.deepEqual(shape(parseRepr("{'self': {...}}")), { dict: [["'self'", '{...}']] });
  });

  it('returns the whole text as one atom for anything it cannot read completely', () => {
    for (const text of [
      '[1, 2, 3...<+40 chars>',
      "{'a': [1, 2]...<+12 chars>",
      "'abcdef...<+5 chars>",
      '[1, 2',
      '[1, 2)',
      '(1, 2]',
      ']',
      '[1,, 2]',
      '[,]',
      '{1: }',
      '{1: 2, 3}',
      '{1, 2: 3}',
      "['unterminated]",
      '[<no end]',
      '[1] [2]',
      '',
      '   ',
      '[deque([1)]',
    ]) {
      assert.deepEqual(parseRepr(text), atom(text), JSON.stringify(text));
    }
  });

  it('tolerates space around values and a trailing comma', () => {
    assert.deepEqual(shape(parseRepr('  [ 1 ,2 , ]  ')), { list: [['0', '1'], ['1', '2']] });
    assert.equal(parseRepr('  [1]  ').text, '[1]');
  });

  it('reads a 1 MB repr in well under a second', () => {
    const item = "{'key': [1, 2.5, (3, 'x]')], 'n': None, 'o': <Obj at 0x1>}";
    const repr = `[${Array.from({ length: Math.ceil(1_000_000 / (item.length + 2)) }, () => item).join(', ')}]`;
    assert.ok(repr.length >= 1_000_000);
    const started = performance.now();
    const tree = parseRepr(repr);
    const elapsed = performance.now() - started;
    assert.ok(tree.kind === 'list');
    assert.equal(tree.children.length, Math.ceil(1_000_000 / (item.length + 2)));
    assert.deepEqual(shape(tree.children[7].node), { dict: [["'key'", { list: [['0', '1'], ['1', '2.5'], ['2', { tuple: [['0', '3'], ['1', "'x]'"]] }]] }], ["'n'", 'None'], ["'o'", '<Obj at 0x1>']] });
    assert.ok(elapsed < 500, `took ${elapsed.toFixed(0)} ms`);
  });

  it('stays linear and never throws on deep nesting, balanced or not', () => {
    const depth = 200_000;
    for (const repr of ['['.repeat(depth) + ']'.repeat(depth), '['.repeat(depth), '('.repeat(depth) + '1' + ',)'.repeat(depth), "{'a': ".repeat(depth) + '1' + '}'.repeat(depth)]) {
      const started = performance.now();
      const tree = parseRepr(repr);
      assert.ok(performance.now() - started < 500);
      assert.equal(tree.text, repr);
    }
    // The outer levels stay expandable; only what lies below the depth limit is one atom.
    let node = parseRepr('['.repeat(1000) + ']'.repeat(1000));
    let levels = 0;
    while (node.kind === 'list') {
      levels++;
      node = node.children[0].node;
    }
    assert.ok(levels >= 100, `only ${levels} levels`);
    assert.equal(node.kind, 'atom');
    assert.equal(node.text, '['.repeat(1000 - levels) + ']'.repeat(1000 - levels));
  });
});
