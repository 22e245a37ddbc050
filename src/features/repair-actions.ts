/**
 * Verified patch suggestions. In a trusted workspace, when a Python file is opened or saved, what it is
 * expected to do (its asserts, doctests and calls, workspace tests that import it, values the user
 * stated) is checked by real runs; for a failing expectation, candidate edits are run against every
 * expectation (repair.ts), and only those that pass are offered: as quick fixes (with VS Code's diff
 * preview by default) on the function and the failing line, and as a lens on the failing line. Nothing
 * is applied without the user's accept; an applied fix is an ordinary edit, undone as any other. An
 * untrusted workspace runs nothing, so it gets no suggestions.
 */
import { createHash } from 'node:crypto';
import * as vscode from 'vscode';
import { checkLabel } from '../repair/check';
import { describeExpectation, Expectation, findExpectations, findTestExpectations, parseStatedExpectation } from '../repair/expectations';
import { RepairReport, repairProgram, VerifiedFix } from '../repair/repair';
import { scanPython } from '../trace/pysource';
import { bundledTracerScript } from './trace-settings';
import { WorkspaceTests } from './workspace-tests';

const SOURCE = 'Neural Debugger';

interface Analysis {
  /** Hash of the text analysed: suggestions apply only while the document still holds it. */
  readonly textHash: string;
  state: 'running' | 'done';
  report?: RepairReport;
  controller: AbortController;
}

export class RepairActions implements vscode.CodeActionProvider, vscode.CodeLensProvider, vscode.Disposable {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];
  private readonly analyses = new Map<string, Analysis>();
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('neural-debugger-repair');
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private queue: Promise<void> = Promise.resolve();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly tests: WorkspaceTests,
  ) {
    this.disposables.push(
      this.diagnostics,
      this.changed,
      vscode.languages.registerCodeActionsProvider({ language: 'python' }, this, { providedCodeActionKinds: RepairActions.kinds }),
      vscode.languages.registerCodeLensProvider({ language: 'python' }, this),
      vscode.workspace.onDidOpenTextDocument((document) => this.schedule(document)),
      vscode.workspace.onDidSaveTextDocument((document) => this.schedule(document)),
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (event.contentChanges.length === 0) return;
        const key = event.document.uri.toString();
        this.analyses.get(key)?.controller.abort();
        this.analyses.delete(key);
        this.diagnostics.delete(event.document.uri);
        this.changed.fire();
      }),
      vscode.workspace.onDidCloseTextDocument((document) => {
        this.analyses.get(document.uri.toString())?.controller.abort();
        this.analyses.delete(document.uri.toString());
        this.diagnostics.delete(document.uri);
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => vscode.workspace.textDocuments.forEach((document) => this.schedule(document))),
      vscode.commands.registerCommand('neuralDebugger.expectValue', (uri?: vscode.Uri, name?: string) => this.expectValue(uri, name)),
      vscode.commands.registerCommand('neuralDebugger.applyVerifiedFix', (uri: vscode.Uri, index?: number) => this.applyFix(uri, index)),
    );
    for (const document of vscode.workspace.textDocuments) this.schedule(document);
  }

  dispose(): void {
    for (const analysis of this.analyses.values()) analysis.controller.abort();
    for (const disposable of this.disposables) disposable.dispose();
  }

  // ---- what the editor asks for ----

  provideCodeActions(document: vscode.TextDocument, range: vscode.Range | vscode.Selection): vscode.CodeAction[] {
    const report = this.current(document);
    if (!report?.target) return [];
    const target = report.target.expectation;
    const fn = scanPython(document.getText()).functions.find((candidate) => candidate.name === target.function && candidate.parent === undefined);
    const near = [this.failingLine(report), ...(fn ? [new vscode.Range(fn.firstLine - 1, 0, fn.lastLine - 1, 0)] : []), ...report.fixes.map((fix) => new vscode.Range(fix.line - 1, 0, fix.line - 1, 0))];
    if (!near.some((place) => place !== undefined && (place.intersection(range) !== undefined || place.contains(range.start)))) return [];
    const diagnostics = this.diagnostics.get(document.uri) ?? [];
    return report.fixes.map((fix, i) => {
      const action = new vscode.CodeAction(`Fix: ${fix.change} (verified: ${fix.summary})`, vscode.CodeActionKind.QuickFix);
      action.edit = this.editFor(document, fix);
      action.diagnostics = [...diagnostics];
      action.isPreferred = i === 0;
      return action;
    });
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const lenses: vscode.CodeLens[] = [];
    if (vscode.workspace.isTrusted) {
      for (const fn of scanPython(document.getText()).functions.filter((candidate) => candidate.parent === undefined && !candidate.isClass)) {
        lenses.push(new vscode.CodeLens(new vscode.Range(fn.defLine - 1, 0, fn.defLine - 1, 0), { title: '$(beaker) expected value…', command: 'neuralDebugger.expectValue', arguments: [document.uri, fn.name], tooltip: 'State what a call of this function should return; failing, it gets verified fix suggestions' }));
      }
    }
    const analysis = this.analyses.get(document.uri.toString());
    const report = this.current(document);
    const line = report && this.failingLine(report);
    if (analysis?.state === 'running') {
      lenses.push(new vscode.CodeLens(new vscode.Range(0, 0, 0, 0), { title: '$(sync~spin) checking expectations and looking for verified fixes…', command: '' }));
    } else if (report?.target && line) {
      const label = describeExpectation(report.target.expectation);
      const title = report.fixes.length === 0
        ? `$(error) ${label} fails (${report.target.outcome}); no verified fix in ${report.tried} candidates`
        : report.fixes.length === 1
          ? `$(lightbulb) verified fix for ${label}: ${report.fixes[0].change}`
          : `$(lightbulb) ${report.fixes.length} verified fixes for ${label}…`;
      lenses.push(new vscode.CodeLens(line, { title, command: report.fixes.length ? 'neuralDebugger.applyVerifiedFix' : '', arguments: [document.uri], tooltip: report.fixes.map((fix) => `${fix.change}: ${fix.summary}`).join('\n') }));
    }
    return lenses;
  }

  // ---- analysis ----

  private schedule(document: vscode.TextDocument): void {
    if (document.languageId !== 'python' || document.uri.scheme !== 'file' || !vscode.workspace.isTrusted) return;
    if (!vscode.workspace.getConfiguration('neuralDebugger').get<boolean>('repair.enabled', true)) return;
    const key = document.uri.toString();
    const textHash = hash(document.getText());
    const existing = this.analyses.get(key);
    if (existing?.textHash === textHash) return;
    existing?.controller.abort();
    const analysis: Analysis = { textHash, state: 'running', controller: new AbortController() };
    this.analyses.set(key, analysis);
    this.changed.fire();
    // One repair at a time: each runs programs, and two would compete for the same cores.
    this.queue = this.queue.then(() => this.analyse(document, analysis)).catch(() => undefined);
  }

  private async analyse(document: vscode.TextDocument, analysis: Analysis): Promise<void> {
    if (analysis.controller.signal.aborted) return;
    const text = document.getText();
    if (hash(text) !== analysis.textHash) return;
    const config = vscode.workspace.getConfiguration('neuralDebugger');
    const expectations = [...this.stated(document), ...findExpectations(text), ...(await this.testExpectations(document))];
    const python = config.get<string>('pythonPath', '');
    const report = await repairProgram(text, expectations, {
      programPath: document.uri.fsPath,
      fileLabel: vscode.workspace.asRelativePath(document.uri),
      tracerScript: bundledTracerScript(this.context),
      ...(python ? { python } : {}),
      timeoutSeconds: config.get<number>('repair.runSeconds', 2),
      maxFixes: 3,
      signal: analysis.controller.signal,
    });
    if (analysis.controller.signal.aborted || this.analyses.get(document.uri.toString()) !== analysis) return;
    analysis.report = report;
    analysis.state = 'done';
    this.diagnostics.set(document.uri, report.before.filter((result) => !result.passed && !result.expectation.file).map((result) => {
      const line = Math.max(0, result.expectation.line - 1);
      const diagnostic = new vscode.Diagnostic(document.lineAt(Math.min(line, document.lineCount - 1)).range, `${checkLabel(result)}${result === report.target && report.fixes.length ? ` — ${report.fixes.length} verified fix${report.fixes.length === 1 ? '' : 'es'} (quick fix)` : ''}`, vscode.DiagnosticSeverity.Warning);
      diagnostic.source = SOURCE;
      return diagnostic;
    }));
    this.changed.fire();
  }

  /** The report for the document as it is now; undefined while it is being analysed or after an edit. */
  private current(document: vscode.TextDocument): RepairReport | undefined {
    const analysis = this.analyses.get(document.uri.toString());
    return analysis?.state === 'done' && analysis.textHash === hash(document.getText()) ? analysis.report : undefined;
  }

  /** Where the failing expectation is stated in this file, else the fix's line. */
  private failingLine(report: RepairReport): vscode.Range | undefined {
    const target = report.target?.expectation;
    if (!target) return undefined;
    const line = !target.file && target.line > 0 ? target.line : report.fixes[0]?.line;
    return line === undefined ? undefined : new vscode.Range(line - 1, 0, line - 1, 0);
  }

  private editFor(document: vscode.TextDocument, fix: VerifiedFix): vscode.WorkspaceEdit {
    const edit = new vscode.WorkspaceEdit();
    const preview = vscode.workspace.getConfiguration('neuralDebugger').get<boolean>('repair.preview', true);
    const metadata: vscode.WorkspaceEditEntryMetadata = { label: `Verified fix: ${fix.change}`, description: fix.summary, needsConfirmation: preview };
    const eol = document.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n';
    if (fix.replacedLines === 0) {
      const at = fix.line - 1 < document.lineCount ? new vscode.Position(fix.line - 1, 0) : document.lineAt(document.lineCount - 1).range.end;
      edit.insert(document.uri, at, at.character === 0 ? fix.newText + eol : eol + fix.newText, metadata);
    } else {
      const range = new vscode.Range(fix.line - 1, 0, fix.line - 2 + fix.replacedLines, document.lineAt(fix.line - 2 + fix.replacedLines).text.length);
      edit.replace(document.uri, range, fix.newText.split('\n').join(eol), metadata);
    }
    return edit;
  }

  private async applyFix(uri: vscode.Uri, index: number | undefined): Promise<void> {
    const document = await vscode.workspace.openTextDocument(uri);
    const report = this.current(document);
    if (!report || report.fixes.length === 0) {
      void vscode.window.showInformationMessage('Neural Debugger: the file changed since the fixes were verified; save it to check again.');
      return;
    }
    let fix = index === undefined ? undefined : report.fixes[index];
    if (!fix) {
      const picked = report.fixes.length === 1 ? { fix: report.fixes[0] } : await vscode.window.showQuickPick(report.fixes.map((candidate) => ({ label: candidate.change, detail: candidate.summary, fix: candidate })), { title: 'Verified fixes' });
      fix = picked?.fix;
    }
    if (fix) await vscode.workspace.applyEdit(this.editFor(document, fix));
  }

  // ---- expectations ----

  private stated(document: vscode.TextDocument): Expectation[] {
    const names = new Set(scanPython(document.getText()).functions.filter((fn) => fn.parent === undefined).map((fn) => fn.name));
    return (this.context.workspaceState.get<string[]>(statedKey(document)) ?? []).flatMap((text) => parseStatedExpectation(text, names) ?? []);
  }

  private async expectValue(uri: vscode.Uri | undefined, name: string | undefined): Promise<void> {
    const document = uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
    if (!document || document.languageId !== 'python') return;
    const names = scanPython(document.getText()).functions.filter((fn) => fn.parent === undefined && !fn.isClass).map((fn) => fn.name);
    const fn = name ?? (await vscode.window.showQuickPick(names, { title: 'Function' }));
    if (!fn) return;
    const typed = await vscode.window.showInputBox({
      title: `Expected value of a call of ${fn}`,
      prompt: `e.g. ${fn}(3) == 6 — remembered for this workspace; an empty answer forgets the ones stated for ${fn}`,
      value: `${fn}()`,
      validateInput: (text) => (text.trim() === '' || parseStatedExpectation(text, new Set(names)) ? undefined : `write ${fn}(ARGS) == VALUE, with literal arguments`),
    });
    if (typed === undefined) return;
    const kept = (this.context.workspaceState.get<string[]>(statedKey(document)) ?? []).filter((text) => !text.trim().startsWith(`${fn}(`));
    await this.context.workspaceState.update(statedKey(document), typed.trim() === '' ? kept : [...kept, typed.trim()]);
    this.analyses.delete(document.uri.toString());
    this.schedule(document);
  }

  private async testExpectations(document: vscode.TextDocument): Promise<Expectation[]> {
    const names = scanPython(document.getText()).functions.filter((fn) => fn.parent === undefined).map((fn) => fn.name);
    const moduleName = WorkspaceTests.moduleOf(document);
    return (await this.tests.all()).filter((test) => test.fsPath !== document.uri.fsPath).flatMap((test) => findTestExpectations(test.text, test.fsPath, moduleName, names));
  }
}

function statedKey(document: vscode.TextDocument): string {
  return `repair.expected:${vscode.workspace.asRelativePath(document.uri)}`;
}

function hash(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}
