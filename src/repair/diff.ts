/** Unified diffs of two versions of a small file, as `diff -u` / `git diff` print them. */
import { splitLines } from '../trace/pysource';

const CONTEXT = 3;

type Edit = { readonly kind: ' ' | '-' | '+'; readonly text: string };

export function unifiedDiff(before: string, after: string, label: string): string {
  const a = splitLines(before);
  const b = splitLines(after);
  const edits = lineEdits(a, b);
  if (edits.every((edit) => edit.kind === ' ')) return '';
  const out = [`--- a/${label}`, `+++ b/${label}`];
  // Hunks: runs of changes with up to CONTEXT unchanged lines around them, merged when close.
  let i = 0;
  let oldLine = 1;
  let newLine = 1;
  while (i < edits.length) {
    if (edits[i].kind === ' ') {
      i++;
      oldLine++;
      newLine++;
      continue;
    }
    let start = i;
    let contextBefore = 0;
    while (start > 0 && edits[start - 1].kind === ' ' && contextBefore < CONTEXT) {
      start--;
      contextBefore++;
    }
    let end = i;
    for (;;) {
      while (end < edits.length && edits[end].kind !== ' ') end++;
      let gap = 0;
      while (end + gap < edits.length && edits[end + gap].kind === ' ') gap++;
      if (end + gap < edits.length && gap <= 2 * CONTEXT) end += gap;
      else {
        end += Math.min(gap, CONTEXT);
        break;
      }
    }
    const hunk = edits.slice(start, end);
    const oldStart = oldLine - contextBefore;
    const newStart = newLine - contextBefore;
    const oldCount = hunk.filter((edit) => edit.kind !== '+').length;
    const newCount = hunk.filter((edit) => edit.kind !== '-').length;
    out.push(`@@ -${oldStart},${oldCount} +${newStart},${newCount} @@`);
    for (const edit of hunk) out.push(edit.kind + edit.text);
    oldLine = oldStart + oldCount;
    newLine = newStart + newCount;
    i = end;
  }
  return out.join('\n') + '\n';
}

/** A shortest edit script by longest common subsequence (files here are small). */
function lineEdits(a: readonly string[], b: readonly string[]): Edit[] {
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  const edits: Edit[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      edits.push({ kind: ' ', text: a[i++] });
      j++;
    } else if (i < a.length && (j === b.length || lcs[i + 1][j] >= lcs[i][j + 1])) edits.push({ kind: '-', text: a[i++] });
    else edits.push({ kind: '+', text: b[j++] });
  }
  return edits;
}
