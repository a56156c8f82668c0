// `npm run proofs:recheck -- DIR`: every SMT-LIB file `check --engine smt --emit-smtlib DIR`
// wrote (src/smt/certificates.ts), asked again of the solvers on PATH: the native z3 and cvc5.
// A file where a solver answers the opposite of the z3 build the proof ran on (sat for unsat, or
// the reverse) is a disagreement: the run fails. unknown, a timeout, or a file a solver cannot
// read is reported, not a failure: a second solver that gives up confirms nothing, and refutes
// nothing either. Files z3 answered unknown are not asked (they prove nothing).
//
// cvc5 does not read z3's lambdas used as arrays (`(select (lambda ...) i)`: "array select
// operating on non-array"); such a file is handed to cvc5 after z3's simplifier has
// beta-reduced it (the z3 build of this package, in process); nor z3's multi-index arrays
// (`(Array Int Int Int)`), which are curried for it (src/smt/smtlib-curry.ts).

import { execFile } from "node:child_process";
import { availableParallelism } from "node:os";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { VERDICT_TAG } from "./certificates.js";
import { curryArrays } from "./smtlib-curry.js";
import { z3 } from "./z3.js";

export type Answer = "sat" | "unsat" | "unknown" | "timeout" | "unreadable";

export interface Solver {
  readonly name: string;
  readonly version: string;
  /** The command line for a file, with a time limit in seconds. */
  readonly argv: (file: string, seconds: number) => string[];
  /** Lambdas beta-reduced and multi-index arrays curried first (cvc5). */
  readonly lambdaFree: boolean;
}

export interface FileResult {
  readonly file: string;
  /** What the proof's z3 answered. */
  readonly expected: "sat" | "unsat";
  readonly answers: Record<string, { readonly answer: Answer; readonly detail?: string; readonly normalised?: boolean }>;
}

const SOLVERS: readonly Omit<Solver, "version">[] = [
  { name: "z3", argv: (f, s) => ["z3", `-T:${s}`, f], lambdaFree: false },
  { name: "cvc5", argv: (f, s) => ["cvc5", "--lang", "smt2", `--tlimit=${s * 1000}`, f], lambdaFree: true },
];

function run(argv: string[], killAfterMs: number): Promise<{ out: string; err: string; failed: boolean }> {
  return new Promise((resolve) => {
    execFile(argv[0], argv.slice(1), { timeout: killAfterMs, maxBuffer: 16 << 20 }, (e, out, err) => resolve({ out: String(out), err: String(err), failed: e !== null }));
  });
}

/** The solvers on PATH, with their versions. */
export async function solversPresent(): Promise<Solver[]> {
  const out: Solver[] = [];
  for (const s of SOLVERS) {
    const r = await run([s.argv("", 1)[0], "--version"], 10_000);
    if (!r.failed) out.push({ ...s, version: r.out.split("\n")[0].trim() });
  }
  return out;
}

/** A solver's first line of output as an answer; an error's message as the detail. */
function answerOf(r: { out: string; err: string; failed: boolean }, killed: boolean): { answer: Answer; detail?: string } {
  const first = r.out.trim().split("\n")[0]?.trim() ?? "";
  if (first === "sat" || first === "unsat") return { answer: first };
  if (first === "unknown") return { answer: "unknown" };
  if (first === "timeout" || killed) return { answer: "timeout" };
  const message = (r.out + r.err).trim().split("\n")[0] ?? "";
  return { answer: "unreadable", detail: message.slice(0, 300) };
}

/** z3's wasm build runs one async call at a time: the jobs' simplifications queue here. */
let simplifying: Promise<unknown> = Promise.resolve();

/** The file with every lambda beta-reduced by z3's simplifier (what cvc5 can read). */
function lambdaFree(text: string): Promise<string> {
  const next = simplifying.then(() => simplified(text));
  simplifying = next.catch(() => undefined);
  return next;
}

async function simplified(text: string): Promise<string> {
  const Z = await z3();
  const from = new Z.Solver();
  from.fromString(text);
  const to = new Z.Solver();
  for (const a of from.assertions()) to.add((await Z.simplify(a)) as typeof a);
  const header = text.split("\n").filter((l) => l.startsWith(";")).join("\n");
  const out = `${header}\n; lambdas beta-reduced by z3's simplifier for this solver\n(set-logic ALL)\n${to.toString()}\n(check-sat)\n`;
  from.release();
  to.release();
  return out;
}

/** Re-checks one file with every solver. */
async function recheckFile(dir: string, file: string, expected: "sat" | "unsat", solvers: readonly Solver[], seconds: number, scratch: string): Promise<FileResult> {
  const path = join(dir, file);
  const text = readFileSync(path, "utf8");
  const answers: FileResult["answers"] = {};
  for (const s of solvers) {
    const normalised = s.lambdaFree;
    let input = path;
    if (normalised) {
      input = join(scratch, file);
      writeFileSync(input, curryArrays(text.includes("(lambda") ? await lambdaFree(text) : text));
    }
    const t0 = Date.now();
    const r = await run(s.argv(input, seconds), (seconds + 10) * 1000);
    const killed = r.failed && Date.now() - t0 >= seconds * 1000;
    answers[s.name] = { ...answerOf(r, killed), ...(normalised ? { normalised } : {}) };
  }
  return { file, expected, answers };
}

/** Every file of `dir` z3 answered sat or unsat, `jobs` at a time. */
export async function recheck(dir: string, solvers: readonly Solver[], seconds: number, jobs: number): Promise<{ results: FileResult[]; skipped: number }> {
  const files = readdirSync(dir).filter((f) => f.endsWith(".smt2")).sort();
  const todo: { file: string; expected: "sat" | "unsat" }[] = [];
  let skipped = 0;
  for (const file of files) {
    const line = readFileSync(join(dir, file), "utf8").split("\n").find((l) => l.startsWith(VERDICT_TAG));
    const expected = line?.slice(VERDICT_TAG.length).trim();
    if (expected === "sat" || expected === "unsat") todo.push({ file, expected });
    else skipped++;
  }
  const scratch = mkdtempSync(join(tmpdir(), "pkvm-recheck-"));
  const results: FileResult[] = [];
  try {
    let next = 0;
    const worker = async () => {
      while (next < todo.length) {
        const t = todo[next++];
        results.push(await recheckFile(dir, t.file, t.expected, solvers, seconds, scratch));
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return { results: results.sort((a, b) => a.file.localeCompare(b.file)), skipped };
}

/** Per solver: agreements, disagreements, and what it could not decide or read. */
export function summary(results: readonly FileResult[], solvers: readonly Solver[]): { lines: string[]; disagreements: number } {
  const lines: string[] = [];
  let disagreements = 0;
  for (const s of solvers) {
    const mine = results.map((r) => ({ r, a: r.answers[s.name] }));
    const agree = mine.filter(({ r, a }) => a.answer === r.expected);
    const disagree = mine.filter(({ r, a }) => (a.answer === "sat" || a.answer === "unsat") && a.answer !== r.expected);
    const undecided = mine.filter(({ a }) => a.answer === "unknown" || a.answer === "timeout");
    const unreadable = mine.filter(({ a }) => a.answer === "unreadable");
    const normalised = mine.filter(({ a }) => a.normalised).length;
    disagreements += disagree.length;
    lines.push(
      `${s.name} (${s.version}): ${agree.length} agree (${agree.filter(({ r }) => r.expected === "unsat").length} unsat), ${disagree.length} DISAGREE, ${undecided.length} unknown or timeout, ${unreadable.length} unreadable${normalised ? `; ${normalised} files normalised for it (curried, lambdas z3-simplified)` : ""}`,
    );
    for (const { r, a } of disagree) lines.push(`  DISAGREE ${r.file}: z3 (the proof's) ${r.expected}, ${s.name} ${a.answer}`);
    for (const { r, a } of unreadable) lines.push(`  unreadable ${r.file}: ${a.detail}`);
    for (const { r, a } of undecided) lines.push(`  ${a.answer} ${r.file} (z3 answered ${r.expected})`);
  }
  return { lines, disagreements };
}

async function main(argv: string[]): Promise<number> {
  const [dir, ...rest] = argv;
  const seconds = Number(rest[rest.indexOf("--timeout") + 1] ?? 60);
  if (!dir || (rest.includes("--timeout") && !(seconds > 0))) {
    process.stderr.write("usage: npm run proofs:recheck -- DIR [--timeout SECONDS] [--jobs N]\n");
    return 2;
  }
  const jobs = rest.includes("--jobs") ? Number(rest[rest.indexOf("--jobs") + 1]) : Math.min(4, availableParallelism());
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".smt2"));
  } catch {
    process.stderr.write(`proofs:recheck: ${dir}: no such directory (write it with check --engine smt --emit-smtlib ${dir})\n`);
    return 2;
  }
  if (files.length === 0) {
    process.stderr.write(`proofs:recheck: ${dir}: no .smt2 files\n`);
    return 2;
  }
  const solvers = await solversPresent();
  if (solvers.length === 0) {
    process.stdout.write("proofs:recheck: neither z3 nor cvc5 on PATH: nothing re-checked\n");
    return 0;
  }
  const t0 = Date.now();
  const { results, skipped } = await recheck(dir, solvers, rest.includes("--timeout") ? seconds : 60, jobs);
  const { lines, disagreements } = summary(results, solvers);
  process.stdout.write(
    [
      `proofs:recheck ${dir}: ${results.length} files re-checked (${results.filter((r) => r.expected === "unsat").length} unsat, ${results.filter((r) => r.expected === "sat").length} sat), ${skipped} z3 answered unknown (not asked), with ${solvers.map((s) => s.name).join(" and ")}, in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      ...lines,
      disagreements > 0 ? `FAILED: ${disagreements} disagreements` : "no disagreement",
    ].join("\n") + "\n",
  );
  return disagreements > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
