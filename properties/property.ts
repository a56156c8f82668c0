// What a property is. Adding one = adding one file to properties/ that default-exports a
// Property (a state or step check, every engine checks it) or a TemporalProperty (checked on
// the exhaustive search's state graph); registry.ts finds it with no other change.

import type { Step } from "../model/actions.js";
import type { Ret } from "../model/errno.js";
import type { PkvmState } from "../model/state.js";
import type { World } from "../model/world.js";

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

// ---- temporal properties --------------------------------------------------------------------
// A safety property judges one state or one step; a temporal property judges the state graph
// the exhaustive search builds (src/explore/temporal.ts), so no other engine can check it.

/**
 * "Always eventually-possible", AG EF p: from every reachable state some path reaches a state
 * where p holds. Violated by a reachable state from which no path does.
 */
export interface AlwaysEventuallyPossible {
  readonly kind: "always-eventually-possible";
  readonly id: string;
  readonly description: string;
  /** p itself: runs on every reachable state, so it must not allocate. */
  goal(s: PkvmState): boolean;
  /** Where p does not hold: what stands between this state and p, naming pages and frames. */
  unmet(s: PkvmState): Finding;
}

/**
 * "Leads-to", p ~> q, once per instance (e.g. per VM slot): every behaviour in which p holds
 * later reaches q, among the behaviours that are weakly fair to the host's actions (a host
 * call that stays enabled, i.e. would change the state, is eventually made). Guests and the
 * hyp owe nothing. Violated by a lasso: a path to a p-state, then a fair cycle without q.
 */
export interface LeadsTo {
  readonly kind: "leads-to";
  readonly id: string;
  readonly description: string;
  /** How many instances the property has in a world (VM slots, say); p and q take the instance. */
  instances(w: World): number;
  p(s: PkvmState, i: number): boolean;
  q(s: PkvmState, i: number): boolean;
  /** One line for a violated instance: what held and never stopped holding. */
  describe(i: number): string;
}

export type TemporalProperty = AlwaysEventuallyPossible | LeadsTo;

/** Whether a module's default export is a temporal property rather than a state / step one. */
export function isTemporal(p: Property | TemporalProperty): p is TemporalProperty {
  return "kind" in p && (p.kind === "always-eventually-possible" || p.kind === "leads-to");
}
