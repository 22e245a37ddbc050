/**
 * A key per Python literal value, computed in TypeScript, so that checking a run's return value
 * against an expected one needs no Python process for the common cases: equal keys mean equal values
 * of the same types (as same_values.py judges them: True is not 1, 1 is not 1.0); dict and set order
 * does not matter; quotes do not. Anything it cannot read for sure (escapes in strings, calls, cut
 * reprs, odd numbers) gives undefined, and the caller asks Python.
 */
import { parseRepr, ReprNode } from '../trace/repr-tree';

export function literalKey(repr: string): string | undefined {
  return nodeKey(parseRepr(repr.trim()));
}

function nodeKey(node: ReprNode): string | undefined {
  if (node.kind === 'atom') return atomKey(node.text.trim());
  const parts: string[] = [];
  for (const child of node.children) {
    const value = nodeKey(child.node);
    if (value === undefined) return undefined;
    if (node.kind === 'dict') {
      const key = atomOrNodeKey(child.key);
      if (key === undefined) return undefined;
      parts.push(`${key}:${value}`);
    } else parts.push(value);
  }
  if (node.kind === 'dict' || node.kind === 'set') parts.sort();
  return `${node.kind}(${parts.join(',')})`;
}

function atomOrNodeKey(text: string): string | undefined {
  return nodeKey(parseRepr(text.trim()));
}

function atomKey(text: string): string | undefined {
  if (text === 'True' || text === 'False' || text === 'None') return text;
  if (/^-?\d+$/.test(text)) return `int:${BigInt(text).toString()}`;
  if (/^-?(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?$|^-?\d+[eE][-+]?\d+$/.test(text)) {
    const value = Number(text);
    return Number.isFinite(value) ? `float:${value}` : undefined;
  }
  const string = /^(b?)(['"])((?:(?!\2)[^\\])*)\2$/.exec(text);
  if (string) return `${string[1] ? 'bytes' : 'str'}:${JSON.stringify(string[3])}`;
  return undefined;
}
