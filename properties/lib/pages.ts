// Page predicates and names shared by the properties, so that every message spells a state the
// same way ("pfn 3: host SO but ...").

import { Contents, Owner, PageState, S2, VmLife, type PkvmState } from "../../model/state.js";
import type { World } from "../../model/world.js";

const STATE_NAME = ["NOPAGE", "OWNED", "SO", "SB"] as const;
const S2_NAME = ["EMPTY", "IDMAP", "ANNOTATION"] as const;
const LIFE_NAME = ["ABSENT", "LIVE", "DYING"] as const;
const CONTENTS_NAME = ["ZERO", "HOST", "HYP", "GUEST"] as const;

export const stateName = (st: PageState): string => STATE_NAME[st];
export const s2Name = (e: S2): string => S2_NAME[e];
export const lifeName = (l: VmLife): string => LIFE_NAME[l] ?? `life ${l}`;
export const contentsName = (c: Contents): string => CONTENTS_NAME[c];

/** "leaf" or "leaves", to follow a count in a message. */
export const leaves = (n: number): string => (n === 1 ? "leaf" : "leaves");

/** Pages that carry ownership in invariants 1-7 and 11: RAM that no finalized VM left behind. */
export function tracked(s: PkvmState, p: number): boolean {
  return s.w.isMemory(p) && !s.leaked(p);
}

/** An empty entry is faulted in on the host's first touch: both it and an idmap let the host in. */
export function hostAccessible(s: PkvmState, p: number): boolean {
  return s.hostS2(p) !== S2.ANNOTATION;
}

/** "hyp", "vm 0 gfn 1", or "vm 7 gfn 1 (no such VM)": the owner a host annotation names. */
export function annotationName(s: PkvmState, p: number): string {
  if (s.annotationOwner(p) === Owner.HYP) return "hyp";
  const vm = s.annotationVm(p);
  return `vm ${vm} gfn ${s.annotationGfn(p)}${vm < s.w.config.vms.length ? "" : " (no such VM)"}`;
}

/** What an explorer knows a step changed (src/explore/step-delta.ts). */
export interface StepChange {
  /** Every page whose per-page verdict the step could change. */
  readonly pages: Int32Array;
  /** The indices of the words that differ between the states before and after the step. */
  readonly words: Int32Array;
}

let narrowed: StepChange | null = null;
const everyPage = new WeakMap<World, Int32Array>();

/**
 * The pages a state check walks: every page, unless an explorer that knows what a step changed
 * narrowed them (withStepChange). Per-page loops use this, so that a check after a step costs
 * what the step changed, not the size of the world.
 */
export function checkedPages(s: PkvmState): Int32Array {
  if (narrowed) return narrowed.pages;
  let all = everyPage.get(s.w);
  if (!all) everyPage.set(s.w, (all = Int32Array.from({ length: s.w.pages }, (_, i) => i)));
  return all;
}

/** The words a step check compares: the changed ones when an explorer knows them, else every word. */
export function comparedWords(): Int32Array | null {
  return narrowed ? narrowed.words : null;
}

/**
 * Runs `check` (the checks of one step and of the state it reached) narrowed to what the step
 * changed. Sound only when the state before the step passed every check and `change.pages` holds
 * every page whose per-page verdict the step could change. A per-page check reads the page's own
 * words, the guest leaves that map it (guestMaps, an annotation's leaf) and VM lives, nothing else
 * of a VM: so the pages are those whose words changed, the old and new pfn of every guest leaf
 * that changed, and every pfn the leaves of a VM whose life changed map.
 */
export function withStepChange<T>(change: StepChange, check: () => T): T {
  narrowed = change;
  try {
    return check();
  } finally {
    narrowed = null;
  }
}
