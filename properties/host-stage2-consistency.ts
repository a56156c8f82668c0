// Invariant 7: the host stage-2 agrees with the host's page state. A host NOPAGE page is behind
// an annotation naming its true owner (the hyp, or the guest leaf that maps it OWNED), since
// force reclaim trusts that name; every other page has an empty entry or an identity map, MMIO
// included. Leaked pages keep stale annotations and have property 15.

import { GuestEntry, Owner, PageState, S2, VmLife, type PkvmState } from "../model/state.js";
import { annotationName, checkedPages, s2Name, stateName } from "./lib/pages.js";
import { finding, type Property } from "./property.js";

/** Does the owner the annotation on p names own p outright? */
function annotationIsTrue(s: PkvmState, p: number): boolean {
  if (s.annotationOwner(p) === Owner.HYP) return s.hypState(p) === PageState.OWNED;
  const vm = s.annotationVm(p);
  const gfn = s.annotationGfn(p);
  const vms = s.w.config.vms;
  return (
    vm < vms.length &&
    gfn < vms[vm].gfns &&
    s.vmLife(vm) !== VmLife.ABSENT &&
    s.guestEntry(vm, gfn) === GuestEntry.MAPPED &&
    s.guestPfn(vm, gfn) === p &&
    s.guestState(vm, gfn) === PageState.OWNED
  );
}

const property: Property = {
  id: "host-stage2-consistency",
  description: "host NOPAGE pages carry an annotation naming their true owner; all others are empty or identity-mapped",
  invariant: 7,
  checkState(s) {
    for (const p of checkedPages(s)) {
      const e = s.hostS2(p);
      if (!s.w.isMemory(p)) {
        if (e === S2.ANNOTATION) return finding(`pfn ${p}: MMIO page annotated (${annotationName(s, p)})`, { pages: [p] });
        continue;
      }
      if (s.leaked(p)) continue;
      const nopage = s.hostState(p) === PageState.NOPAGE;
      if (nopage && e !== S2.ANNOTATION) return finding(`pfn ${p}: host NOPAGE but host stage-2 ${s2Name(e)}`, { pages: [p] });
      if (!nopage && e === S2.ANNOTATION) {
        return finding(`pfn ${p}: host ${stateName(s.hostState(p))} but annotated (${annotationName(s, p)})`, { pages: [p] });
      }
      if (nopage && !annotationIsTrue(s, p)) {
        const frames: [number, number][] = s.annotationOwner(p) === Owner.GUEST ? [[s.annotationVm(p), s.annotationGfn(p)]] : [];
        return finding(`pfn ${p}: annotation names ${annotationName(s, p)}, which does not own it`, { pages: [p], frames });
      }
    }
    return null;
  },
};

export default property;
