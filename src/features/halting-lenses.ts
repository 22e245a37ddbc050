/**
 * Halting lenses: above each top-level Python function that has inputs (a call in `__main__` or at the
 * top level, a doctest, a literal call in a workspace test, or inputs the user gave through the lens),
 * the verdict for each input: the model's, with its confidence, and (trusted workspaces only) a bounded
 * real run's. Clicking a verdict opens its witness.
 *
 * Nothing here blocks typing: lenses are returned at once from a cache keyed by the function's text
 * (and the functions it calls), the input and the settings; missing verdicts are computed one at a
 * time (the model in its worker, the program in a child process) once the document has been quiet for
 * a moment, and an edit cancels what was in flight for that document.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { findFunctionInputs, findTestInputs, FunctionInput, FunctionWithInputs } from '../halting/inputs';
import { judgeHalting } from '../halting/judge';
import { disagrees, HaltingReport, headline, reportText } from '../halting/verdict';
import { isCancelled, ModelError } from '../model/backend';
import { buildPromptProgram, PromptError } from '../trace/prompt';
import type { ModelProvider } from './model-provider';
import { bundledTracerScript } from './trace-settings';
import { WorkspaceTests } from './workspace-tests';

const WITNESS_SCHEME = 'neural-debug-halting';
const QUIET_MS = 800;
const MAX_INPUTS_PER_FUNCTION = 3;
/** Verdicts kept for function texts that may come back (an undo); the oldest finished ones go first. */
const MAX_CACHED = 500;

interface LensVerdict {
  state: 'queued' | 'running' | 'done' | 'failed';
  readonly document: string;
  readonly title: string;
  report?: HaltingReport;
  problem?: string;
  controller?: AbortController;
}

interface Settings {
  readonly enabled: boolean;
  readonly samples: number;
  readonly maxSteps: number;
  readonly realRunSeconds: number;
  readonly python: string;
}

export class HaltingLenses implements vscode.CodeLensProvider, vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly witnessChanged = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.witnessChanged.event;
  private readonly verdicts = new Map<string, LensVerdict>();
  private readonly queue: string[] = [];
  private readonly lastEdit = new Map<string, number>();
  private running = false;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly models: ModelProvider,
    private readonly tests: WorkspaceTests,
  ) {
    this.disposables.push(
      this.changed,
      this.witnessChanged,
      tests.onDidChange(() => this.changed.fire()),
      vscode.languages.registerCodeLensProvider({ language: 'python' }, this),
      vscode.workspace.registerTextDocumentContentProvider(WITNESS_SCHEME, this),
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (event.document.languageId !== 'python' || event.contentChanges.length === 0) return;
        this.edited(event.document.uri.toString());
      }),
      vscode.workspace.onDidCloseTextDocument((document) => this.cancelDocument(document.uri.toString())),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('neuralDebugger')) this.reset();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.reset()),
      vscode.commands.registerCommand('neuralDebugger.haltingInputs', (uri?: vscode.Uri, name?: string) => this.askInputs(uri, name)),
      vscode.commands.registerCommand('neuralDebugger.showHaltingWitness', (key?: string) => this.showWitness(key)),
      vscode.commands.registerCommand('neuralDebugger.refreshHaltingLenses', () => this.reset()),
    );
  }

  dispose(): void {
    for (const verdict of this.verdicts.values()) verdict.controller?.abort();
    for (const disposable of this.disposables) disposable.dispose();
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const settings = readSettings();
    if (!settings.enabled) return [];
    const text = document.getText();
    const functions = findFunctionInputs(text);
    const tests = this.testInputs(document, functions.map((fn) => fn.name));
    const lenses: vscode.CodeLens[] = [];
    for (const fn of functions) {
      const range = new vscode.Range(fn.defLine - 1, 0, fn.defLine - 1, 0);
      const inputs = [...this.userInputs(document, fn.name), ...fn.inputs, ...(tests.get(fn.name) ?? [])].filter(uniqueArgs()).slice(0, MAX_INPUTS_PER_FUNCTION);
      for (const input of inputs) {
        const key = this.keyOf(text, fn, functions, input.args, settings);
        const verdict = this.verdictFor(key, document, fn.name, input.args);
        lenses.push(new vscode.CodeLens(range, { title: lensTitle(verdict, `${fn.name}(${input.args})`), command: 'neuralDebugger.showHaltingWitness', arguments: [key], tooltip: tooltipOf(verdict, input) }));
      }
      lenses.push(new vscode.CodeLens(range, {
        title: inputs.length === 0 ? '$(debug-alt) Predict halting…' : '$(edit) halting inputs…',
        command: 'neuralDebugger.haltingInputs',
        arguments: [document.uri, fn.name],
        tooltip: 'Give the arguments to judge this function on (remembered for this workspace)',
      }));
    }
    return lenses;
  }

  /** The witness page of a verdict. */
  provideTextDocumentContent(uri: vscode.Uri): string {
    const verdict = this.verdicts.get(uri.query);
    if (!verdict) return 'This verdict is no longer cached: the function changed since. Click its lens again.\n';
    if (verdict.state !== 'done' || !verdict.report) return `${verdict.title}: ${verdict.state === 'failed' ? verdict.problem ?? 'failed' : 'still being judged…'}\n`;
    return reportText(verdict.report);
  }

  // ---- verdicts ----

  private verdictFor(key: string, document: vscode.TextDocument, entry: string, args: string): LensVerdict {
    let verdict = this.verdicts.get(key);
    if (!verdict) {
      if (this.verdicts.size >= MAX_CACHED) {
        const oldest = [...this.verdicts].find(([, cached]) => cached.state === 'done' || cached.state === 'failed');
        if (oldest) this.verdicts.delete(oldest[0]);
      }
      verdict = { state: 'queued', document: document.uri.toString(), title: `${entry}(${args})` };
      this.verdicts.set(key, verdict);
      this.queue.push(key);
      void this.work(document, key, entry, args);
    }
    return verdict;
  }

  private async work(document: vscode.TextDocument, key: string, entry: string, args: string): Promise<void> {
    // One at a time, each after its document has been quiet for a moment.
    while (this.running || this.queue[0] !== key || Date.now() - (this.lastEdit.get(document.uri.toString()) ?? 0) < QUIET_MS) {
      if (!this.queue.includes(key)) return;
      await sleep(this.running || this.queue[0] !== key ? 100 : QUIET_MS);
    }
    this.queue.shift();
    const verdict = this.verdicts.get(key);
    if (!verdict || verdict.state !== 'queued') return;
    this.running = true;
    verdict.state = 'running';
    verdict.controller = new AbortController();
    this.changed.fire();
    const signal = verdict.controller.signal;
    // An edit may have dropped this verdict and its lens asked again for the same key: leave the new one be.
    const drop = (): void => {
      if (this.verdicts.get(key) === verdict) this.verdicts.delete(key);
    };
    try {
      const report = await this.judge(document, entry, args, signal);
      if (signal.aborted) drop();
      else {
        verdict.report = report;
        verdict.state = 'done';
      }
    } catch (error) {
      if (isCancelled(error) || signal.aborted) {
        drop();
      } else {
        verdict.state = 'failed';
        verdict.problem = error instanceof ModelError || error instanceof PromptError ? error.message : String(error);
      }
    } finally {
      verdict.controller = undefined;
      this.running = false;
      this.changed.fire();
      this.witnessChanged.fire(witnessUri(key, verdict.title));
    }
  }

  private async judge(document: vscode.TextDocument, entry: string, args: string, signal: AbortSignal): Promise<HaltingReport> {
    const settings = readSettings();
    const program = buildPromptProgram(document.getText(), { entry, args });
    let backend;
    let modelProblem: string | undefined;
    try {
      backend = await this.models.get();
    } catch (error) {
      modelProblem = error instanceof ModelError ? error.message : String(error);
    }
    const trusted = vscode.workspace.isTrusted;
    // An untitled document runs from the extension's storage folder, which must exist to be a working directory.
    if (trusted && document.uri.scheme !== 'file') await vscode.workspace.fs.createDirectory(this.context.globalStorageUri);
    return judgeHalting(program, { entry, args }, {
      ...(backend ? { backend } : { modelProblem: modelProblem ?? 'no model' }),
      model: { samples: settings.samples, maxSteps: settings.maxSteps },
      ...(trusted
        ? {
            real: {
              programPath: document.uri.scheme === 'file' ? document.uri.fsPath : path.join(this.context.globalStorageUri.fsPath, 'untitled.py'),
              timeoutSeconds: settings.realRunSeconds,
              tracerScript: bundledTracerScript(this.context),
              ...(settings.python ? { python: settings.python } : {}),
            },
          }
        : { realSkipped: 'untrusted workspace: no code of yours runs' }),
      ...(settings.python ? { python: settings.python } : {}),
      signal,
    });
  }

  private edited(document: string): void {
    this.lastEdit.set(document, Date.now());
    this.cancelDocument(document);
  }

  /** Drops what is queued or in flight for the document; its lenses ask again for what they still need. */
  private cancelDocument(document: string): void {
    for (const [key, verdict] of this.verdicts) {
      if (verdict.document !== document || (verdict.state !== 'queued' && verdict.state !== 'running')) continue;
      verdict.controller?.abort();
      this.verdicts.delete(key);
      const at = this.queue.indexOf(key);
      if (at >= 0) this.queue.splice(at, 1);
    }
  }

  private reset(): void {
    for (const verdict of this.verdicts.values()) verdict.controller?.abort();
    this.verdicts.clear();
    this.queue.length = 0;
    this.changed.fire();
  }

  /** The function's text and that of the functions it calls, the input and the settings. */
  private keyOf(text: string, fn: FunctionWithInputs, functions: readonly FunctionWithInputs[], args: string, settings: Settings): string {
    const lines = text.split(/\r?\n/);
    const body = (f: FunctionWithInputs): string => lines.slice(f.firstLine - 1, f.lastLine).join('\n');
    const included = new Set([fn.name]);
    const pending = [fn];
    while (pending.length > 0) {
      const current = body(pending.pop() as FunctionWithInputs);
      for (const other of functions) {
        if (!included.has(other.name) && new RegExp(`\\b${other.name}\\b`).test(current)) {
          included.add(other.name);
          pending.push(other);
        }
      }
    }
    const parts = functions.filter((f) => included.has(f.name)).map(body);
    return createHash('sha1').update(JSON.stringify([parts, fn.name, args, vscode.workspace.isTrusted, settings])).digest('hex');
  }

  // ---- inputs ----

  private userInputs(document: vscode.TextDocument, name: string): FunctionInput[] {
    const args = this.context.workspaceState.get<string>(inputsKey(document, name));
    return args === undefined || args.trim() === '' ? [] : [{ args: args.trim(), origin: 'user', line: 0 }];
  }

  private async askInputs(uri: vscode.Uri | undefined, name: string | undefined): Promise<void> {
    const document = uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
    if (!document || document.languageId !== 'python') return;
    const functions = findFunctionInputs(document.getText());
    const fn = name ?? (await vscode.window.showQuickPick(functions.map((f) => f.name), { title: 'Function to judge' }));
    if (!fn) return;
    const typed = await vscode.window.showInputBox({
      title: `Halting: arguments for ${fn}`,
      prompt: 'Python argument text, e.g. [1, 2], 3 (empty: forget the inputs given before)',
      value: this.context.workspaceState.get<string>(inputsKey(document, fn)) ?? '',
    });
    if (typed === undefined) return;
    await this.context.workspaceState.update(inputsKey(document, fn), typed.trim() === '' ? undefined : typed.trim());
    this.changed.fire();
  }

  private testInputs(document: vscode.TextDocument, names: readonly string[]): Map<string, FunctionInput[]> {
    const moduleName = WorkspaceTests.moduleOf(document);
    const found = new Map<string, FunctionInput[]>();
    for (const test of this.tests.current()) {
      if (test.fsPath === document.uri.fsPath) continue;
      for (const [name, inputs] of findTestInputs(test.text, test.fsPath, moduleName, names)) found.set(name, [...(found.get(name) ?? []), ...inputs]);
    }
    return found;
  }

  private async showWitness(key: string | undefined): Promise<void> {
    const verdict = key === undefined ? undefined : this.verdicts.get(key);
    if (!key || !verdict) {
      void vscode.window.showInformationMessage('Neural Debugger: this verdict is being recomputed; try again in a moment.');
      return;
    }
    const document = await vscode.workspace.openTextDocument(witnessUri(key, verdict.title));
    await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: false });
  }
}

function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration('neuralDebugger');
  return {
    enabled: config.get<boolean>('haltingLenses.enabled', true),
    samples: config.get<number>('haltingLenses.samples', 2),
    maxSteps: config.get<number>('haltingLenses.maxSteps', 48),
    realRunSeconds: config.get<number>('haltingLenses.realRunSeconds', 2),
    python: config.get<string>('pythonPath', ''),
  };
}

function lensTitle(verdict: LensVerdict, call: string): string {
  switch (verdict.state) {
    case 'queued':
      return `$(clock) ${call}: halting verdict queued`;
    case 'running':
      return `$(sync~spin) ${call}: predicting…`;
    case 'failed':
      return `$(error) ${call}: ${verdict.problem ?? 'failed'}`;
    case 'done': {
      const report = verdict.report as HaltingReport;
      const real = report.real?.verdict;
      const shown = real && real !== 'unknown' ? real : report.model?.verdict ?? 'unknown';
      const icon = disagrees(report) ? '$(warning)' : shown === 'terminates' ? '$(check)' : shown === 'may-not-terminate' ? '$(sync)' : '$(question)';
      return `${icon} ${call}: ${headline(report)}`;
    }
  }
}

function tooltipOf(verdict: LensVerdict, input: FunctionInput): string {
  const from = { main: 'a call in __main__', 'top-level': 'a call at the top level', doctest: 'a doctest', test: 'a test', user: 'your input' }[input.origin];
  return `Input from ${from}${input.line ? ` (line ${input.line}${input.file ? ` of ${path.basename(input.file)}` : ''})` : ''}. Click for the witness${verdict.state === 'done' ? '' : ' (once judged)'}.`;
}

function witnessUri(key: string, title: string): vscode.Uri {
  return vscode.Uri.from({ scheme: WITNESS_SCHEME, path: `/halting ${title.replace(/[/\\]/g, '_').slice(0, 80)}.txt`, query: key });
}

function inputsKey(document: vscode.TextDocument, name: string): string {
  return `halting.inputs:${vscode.workspace.asRelativePath(document.uri)}#${name}`;
}

function uniqueArgs(): (input: FunctionInput) => boolean {
  const seen = new Set<string>();
  return (input) => !seen.has(input.args) && seen.add(input.args) !== undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
