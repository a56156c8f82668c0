// `--` ends options (POSIX): every argument after it is an operand, even one that starts with a
// dash (a trace named `-x.json`). yargs re-parses a command's positionals as `--name value`, so a
// dashed operand would still be read as a flag; the operands after `--` are therefore handed to
// yargs as opaque placeholders (a NUL byte cannot occur in a real argument) and put back before
// any command runs.

const MARK = "\u0000operand:";

export interface Operands {
  /** The arguments for yargs: those before `--`, then one placeholder per operand after it. */
  args: string[];
  /** Replaces the placeholders in a parsed argv with the operands they stand for. */
  restore: (argv: Record<string, unknown>) => void;
  /** A message (a usage error) with its placeholders replaced by the operands. */
  restoreText: (message: string) => string;
}

export function protectOperands(argv: readonly string[]): Operands {
  const end = argv.indexOf("--");
  if (end < 0) return { args: [...argv], restore: () => {}, restoreText: (m) => m };
  const operands = argv.slice(end + 1);
  const args = [...argv.slice(0, end), ...operands.map((_, i) => `${MARK}${i}`)];
  const real = (v: unknown): unknown =>
    typeof v === "string" && v.startsWith(MARK) ? operands[Number(v.slice(MARK.length))] : Array.isArray(v) ? v.map(real) : v;
  return {
    args,
    restore: (parsed) => {
      for (const k of Object.keys(parsed)) parsed[k] = real(parsed[k]);
    },
    restoreText: (m) => m.replace(new RegExp(`${MARK}(\\d+)`, "g"), (_, i: string) => operands[Number(i)]),
  };
}
