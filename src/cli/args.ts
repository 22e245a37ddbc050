/** A small, strict command-line reader: known options only, clear messages for everything else. */

export class UsageError extends Error {}

export interface OptionSpec {
  readonly name: string;
  /** Takes a value (`--name VALUE` or `--name=VALUE`); otherwise a flag. */
  readonly value: boolean;
}

export interface ParsedArgs {
  readonly positional: string[];
  /** The last value of each option given. */
  readonly options: Map<string, string>;
  /** Every value of each option, in order (for options that may repeat). */
  readonly values: Map<string, string[]>;
  readonly flags: Set<string>;
}

export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[]): ParsedArgs {
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  const positional: string[] = [];
  const options = new Map<string, string>();
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq >= 0 ? eq : undefined);
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`unknown option --${name}`);
    if (!spec.value) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags.add(name);
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (i + 1 < argv.length) value = argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    options.set(name, value);
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  return { positional, options, values, flags };
}

export function intOption(args: ParsedArgs, name: string, min: number): number | undefined {
  const text = args.options.get(name);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min) throw new UsageError(`--${name} needs a whole number of at least ${min}, not "${text}"`);
  return Number(text);
}

export function numberOption(args: ParsedArgs, name: string, min: number): number | undefined {
  const text = args.options.get(name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < min) throw new UsageError(`--${name} needs a number of at least ${min}, not "${text}"`);
  return value;
}

export function choiceOption<T extends string>(args: ParsedArgs, name: string, choices: readonly T[], fallback: T): T {
  const text = args.options.get(name);
  if (text === undefined) return fallback;
  if (!(choices as readonly string[]).includes(text)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, not "${text}"`);
  return text as T;
}
