/**
 * Both worlds in the editor while a `cwm` session is stopped: the predicted current line and the real
 * one, each with its own colour and overview-ruler mark, and the values of the names on those lines at
 * the line's end ("total = 3 ≠ actual 2"). The adapter finds the names through Python tokens and sends
 * them with every stop (protocol-ext.ts); this only draws.
 */
import * as vscode from 'vscode';
import { LineValue, WORLDS_EVENT, WorldsEventBody } from '../adapter/protocol-ext';

const MAX_VALUE = 40;

export class WorldDecorations implements vscode.Disposable {
  private readonly predictedLine = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('editor.stackFrameHighlightBackground'),
    overviewRulerColor: new vscode.ThemeColor('debugIcon.breakpointCurrentStackframeForeground'),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
  });
  private readonly actualLine = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('editor.focusedStackFrameHighlightBackground'),
    overviewRulerColor: new vscode.ThemeColor('testing.iconPassed'),
    overviewRulerLane: vscode.OverviewRulerLane.Right,
  });
  private readonly values = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('editorCodeLens.foreground'), margin: '0 0 0 2em', fontStyle: 'italic' },
  });
  private readonly disposables: vscode.Disposable[] = [];
  private last: WorldsEventBody | undefined;

  constructor() {
    this.disposables.push(
      vscode.debug.onDidReceiveDebugSessionCustomEvent((event) => {
        if (event.session.type !== 'cwm' || event.event !== WORLDS_EVENT) return;
        this.last = event.body as WorldsEventBody;
        this.drawAll();
      }),
      vscode.debug.onDidTerminateDebugSession((session) => {
        if (session.type === 'cwm') this.clear();
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => this.drawAll()),
      this.predictedLine,
      this.actualLine,
      this.values,
    );
  }

  dispose(): void {
    for (const disposable of this.disposables) disposable.dispose();
  }

  private clear(): void {
    this.last = undefined;
    this.drawAll();
  }

  private drawAll(): void {
    for (const editor of vscode.window.visibleTextEditors) this.draw(editor);
  }

  private draw(editor: vscode.TextEditor): void {
    const body = this.last;
    const here = (position: { path: string; line: number } | undefined): vscode.Range[] =>
      position && samePath(editor.document.uri, position.path) && position.line <= editor.document.lineCount ? [editor.document.lineAt(position.line - 1).range] : [];
    editor.setDecorations(this.predictedLine, here(body?.predicted));
    // When both worlds stand on the same line the predicted mark says it all.
    const sameLine = body?.predicted && body.actual && body.predicted.line === body.actual.line;
    editor.setDecorations(this.actualLine, sameLine ? [] : here(body?.actual));
    const byLine = new Map<number, LineValue[]>();
    for (const value of body?.values ?? []) byLine.set(value.line, [...(byLine.get(value.line) ?? []), value]);
    const options: vscode.DecorationOptions[] = [];
    for (const [line, values] of byLine) {
      const range = here(body?.predicted?.line === line ? body.predicted : body?.actual?.line === line ? body.actual : undefined)[0];
      if (!range) continue;
      const text = values.map(describe).join('   ');
      options.push({ range: new vscode.Range(range.end, range.end), renderOptions: { after: { contentText: text } } });
    }
    editor.setDecorations(this.values, options);
  }
}

function describe(value: LineValue): string {
  const short = (repr: string): string => (repr.length > MAX_VALUE ? `${repr.slice(0, MAX_VALUE - 1)}…` : repr);
  if (value.predicted !== undefined && value.actual !== undefined && value.predicted !== value.actual) {
    return `${value.name} = ${short(value.predicted)} ≠ actual ${short(value.actual)}`;
  }
  const shown = value.predicted ?? value.actual ?? '';
  return `${value.name} = ${short(shown)}`;
}

function samePath(uri: vscode.Uri, file: string): boolean {
  return uri.scheme === 'file' && (uri.fsPath === file || uri.fsPath.toLowerCase() === file.toLowerCase());
}
