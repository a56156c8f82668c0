// What a property is. Adding one = adding one file to properties/ that default-exports a
// Property; registry.ts finds it, and every engine checks it with no other change.

import type { Step } from "../model/actions.js";
import type { Ret } from "../model/errno.js";
import type { PkvmState } from "../model/state.js";

/** A violated property: a message naming what is wrong, and the pages / guest frames concerned. */
export interface Finding {
  message: string;
  pages?: number[];
  frames?: [vm: number, gfn: number][];
}

export interface Property {
  /** Stable id, used by --property, counterexample files and baselines. */
  readonly id: string;
  /** One line, shown by `pkvm-check list`. */
  readonly description: string;
  /** The invariant's number in semantics section 6, if it is one of them. */
  readonly invariant?: number;
  /** Checked on every reachable state (the initial one included). */
  checkState?(s: PkvmState): Finding | null;
  /**
   * The actions whose steps checkStep concerns; omitted means every action. Explorers call
   * checkStep only for these, which keeps the exhaustive search's inner loop short.
   */
  readonly actions?: readonly string[];
  /** Checked on every transition, into new states and states already seen. */
  checkStep?(pre: PkvmState, step: Step, ret: Ret, post: PkvmState): Finding | null;
}

export function finding(message: string, where: Omit<Finding, "message"> = {}): Finding {
  return { message, ...where };
}
