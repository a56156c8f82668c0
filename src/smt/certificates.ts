// Proof certificates: every check z3 answers during a proof, written as an SMT-LIB 2 file that
// another solver can re-check (`npm run proofs:recheck`, src/smt/recheck.ts). An unsat answer
// that closes an obligation then rests on two solvers, not on one wasm build's heuristics.
//
// Each file is z3's own text of the assertions (Z3_solver_to_string) with `(check-sat)`, under a
// header: the obligation it belongs to, z3's answer, a hash of the model it came from (the
// compiled model/ and src/smt/ that ran) and a hash of the text itself.

import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CheckHook } from "./z3.js";

/** The header line naming z3's answer: `recheck` reads it back. */
export const VERDICT_TAG = "; z3 answered: ";

/** sha256 over the compiled model and SMT encoding, file by file in name order. */
export function modelHash(): string {
  const h = createHash("sha256");
  for (const dir of ["../../model", "."]) {
    const root = fileURLToPath(new URL(dir, import.meta.url));
    for (const f of readdirSync(root).filter((f) => f.endsWith(".js")).sort()) {
      h.update(`${dir}/${f}\0`);
      h.update(readFileSync(join(root, f)));
    }
  }
  return h.digest("hex");
}

/** A file name's part: letters, digits and dashes. */
function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

/**
 * A hook for ProofOptions.onCheck that writes each check into `dir` (created), numbered in the
 * order z3 was asked. `written` counts the files by z3's answer.
 */
export function smtlibWriter(dir: string): { onCheck: CheckHook; written: Record<string, number> } {
  mkdirSync(dir, { recursive: true });
  const model = modelHash();
  const written: Record<string, number> = {};
  let n = 0;
  const onCheck: CheckHook = ({ transition, goal, solver, result }) => {
    const body = `${solver.toString()}\n(check-sat)\n`;
    const header = [
      "; pkvm-check proof obligation (SMT-LIB 2, as z3 was asked it)",
      `; transition: ${transition}`,
      `; goal: ${goal}`,
      `${VERDICT_TAG}${result}`,
      `; model sha256: ${model}`,
      `; text sha256: ${createHash("sha256").update(body).digest("hex")}`,
      // cvc5 reads nothing without a logic; z3 takes ALL as "everything it knows".
      "(set-logic ALL)",
    ];
    const name = `${String(++n).padStart(5, "0")}-${slug(transition)}-${slug(goal)}.smt2`;
    writeFileSync(join(dir, name), `${header.join("\n")}\n${body}`);
    written[result] = (written[result] ?? 0) + 1;
  };
  return { onCheck, written };
}
