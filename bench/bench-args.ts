/** The benchmarks' small command lines: `--name VALUE` options, read by name. */
export interface BenchArgs {
  value(name: string): string | undefined;
  /** A number of at least 0 (or the fallback when absent); anything else stops the benchmark. */
  number(name: string, fallback: number): number;
  flag(name: string): boolean;
}

export function benchArgs(argv: readonly string[]): BenchArgs {
  const value = (name: string): string | undefined => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  return {
    value,
    number: (name, fallback) => {
      const text = value(name);
      if (text === undefined) return fallback;
      const parsed = Number(text);
      if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`${name} must be a number of at least 0, not ${text}`);
      return parsed;
    },
    flag: (name) => argv.includes(name),
  };
}
