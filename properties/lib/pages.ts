// Page predicates and names shared by the properties, so that every message spells a state the
// same way ("pfn 3: host SO but ...").

import { Contents, Owner, PageState, S2, VmLife, type PkvmState } from "../../model/state.js";

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
