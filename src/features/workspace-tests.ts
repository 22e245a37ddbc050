/**
 * The workspace's Python test files (test_*.py, *_test.py), read once and kept up to date by a file
 * watcher, for the features that take inputs and expectations from them (halting lenses, verified
 * fixes). Reading them is not running them: it is the same in untrusted workspaces.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';

const TEST_GLOB = '**/{test_*.py,*_test.py}';
const TEST_EXCLUDE = '**/{node_modules,.venv,venv,.git,__pycache__}/**';
const MAX_FILES = 200;

export interface TestFile {
  readonly fsPath: string;
  readonly text: string;
}

export class WorkspaceTests implements vscode.Disposable {
  private readonly texts = new Map<string, TestFile>();
  private loaded: Promise<void> | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  /** A test file appeared, changed or went away (after the first load too). */
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor() {
    const watcher = vscode.workspace.createFileSystemWatcher(TEST_GLOB);
    this.disposables.push(
      this.changed,
      watcher,
      watcher.onDidChange((uri) => void this.read(uri).then(() => this.changed.fire())),
      watcher.onDidCreate((uri) => void this.read(uri).then(() => this.changed.fire())),
      watcher.onDidDelete((uri) => {
        this.texts.delete(uri.toString());
        this.changed.fire();
      }),
    );
  }

  /** The test files as read so far; the first call starts reading them (onDidChange fires when done). */
  current(): readonly TestFile[] {
    void this.load();
    return [...this.texts.values()];
  }

  /** Every test file, once the first read is done. */
  async all(): Promise<readonly TestFile[]> {
    await this.load();
    return [...this.texts.values()];
  }

  /** The module name a test imports `document` by. */
  static moduleOf(document: vscode.TextDocument): string {
    return path.basename(document.uri.fsPath).replace(/\.py$/, '');
  }

  dispose(): void {
    for (const disposable of this.disposables) disposable.dispose();
  }

  private load(): Promise<void> {
    const loading = this.loaded ?? this.readAll();
    this.loaded = loading;
    return loading;
  }

  private async readAll(): Promise<void> {
    const files = await vscode.workspace.findFiles(TEST_GLOB, TEST_EXCLUDE, MAX_FILES);
    await Promise.all(files.map((uri) => this.read(uri)));
    if (files.length > 0) this.changed.fire();
  }

  private async read(uri: vscode.Uri): Promise<void> {
    try {
      this.texts.set(uri.toString(), { fsPath: uri.fsPath, text: Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8') });
    } catch {
      this.texts.delete(uri.toString()); // unreadable: nothing from it
    }
  }
}
