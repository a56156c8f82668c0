// Invariant 10: a guest reaches only what is its own or lent to it. Every present leaf of a VM
// maps a RAM page that the guest owns (guest OWNED with host NOPAGE, or guest SO with host SB),
// or, for a non-protected VM, borrows a page the host shared with guests (host SO with a share
// count, not shared with FF-A). Never a hyp page, a host-OWNED page, another guest's page, or a
// page the host shared with hyp or FF-A only. State form over every leaf; step form over every
// guest access that succeeds, judged on the state before it.

import { GuestEntry, PageState, VmLife, type PkvmState } from "../model/state.js";
import { guestMaps, type GuestMaps } from "./lib/guest-maps.js";
import { leaves, stateName } from "./lib/pages.js";
import { finding, type Property } from "./property.js";

const { NOPAGE, OWNED, SHARED_OWNED: SO, SHARED_BORROWED: SB } = PageState;

/** Why the leaf (v, g) reaches a page it must not, or null. */
function leafProblem(s: PkvmState, maps: GuestMaps, v: number, g: number): string | null {
  const p = s.guestPfn(v, g);
  const st = s.guestState(v, g);
  const leaf = `vm ${v} gfn ${g} maps it ${stateName(st)}`;
  if (!s.w.isMemory(p)) return `${leaf} but it is not RAM`;
  const host = s.hostState(p);
  if (s.hypState(p) !== NOPAGE) return `${leaf} but hyp ${stateName(s.hypState(p))}`;
  if (st === OWNED || st === SO) {
    const want = st === OWNED ? NOPAGE : SB;
    if (host !== want) return `${leaf} but host ${stateName(host)}`;
    if (maps.owners(p) !== 1 || maps.mapped(p, SB) > 0) return `${leaf} but it is also mapped by ${maps.mappings(p) - 1} other guest ${leaves(maps.mappings(p) - 1)}`;
    return null;
  }
  if (st !== SB) return `${leaf}: a present leaf that neither owns nor borrows`;
  if (s.w.config.vms[v].protected) return `${leaf} but a protected VM borrows nothing`;
  if (host !== SO || s.hostShareGuestCount(p) === 0) return `${leaf} but host ${stateName(host)}, share count ${s.hostShareGuestCount(p)}`;
  if (s.ffaShared(p)) return `${leaf} but it is shared with FF-A`;
  if (maps.owners(p) > 0) return `${leaf} but ${maps.where(p)} owns it`;
  return null;
}

const property: Property = {
  id: "guest-cannot-access-host",
  description: "every guest mapping is of a page the guest owns, or one the host lent to a non-protected VM",
  invariant: 10,
  actions: ["guest_read", "guest_write"],
  checkState(s) {
    const maps = guestMaps(s);
    const { vms } = s.w.config;
    for (let v = 0; v < vms.length; v++) {
      if (s.vmLife(v) === VmLife.ABSENT) continue;
      for (let g = 0; g < vms[v].gfns; g++) {
        if (s.guestEntry(v, g) !== GuestEntry.MAPPED) continue;
        const problem = leafProblem(s, maps, v, g);
        if (problem) return finding(`pfn ${s.guestPfn(v, g)}: ${problem}`, { pages: [s.guestPfn(v, g)], frames: [[v, g]] });
      }
    }
    return null;
  },
  checkStep(pre, step, ret) {
    const name = step.action.name;
    if (ret !== "0" || (name !== "guest_read" && name !== "guest_write")) return null;
    const { vm, gfn } = step.args;
    const frames: [number, number][] = [[vm, gfn]];
    if (pre.vmLife(vm) === VmLife.ABSENT || gfn >= pre.w.config.vms[vm].gfns || pre.guestEntry(vm, gfn) !== GuestEntry.MAPPED) {
      return finding(`vm ${vm} gfn ${gfn}: ${name} succeeded with no page mapped there`, { frames });
    }
    const p = pre.guestPfn(vm, gfn);
    const problem = leafProblem(pre, guestMaps(pre), vm, gfn);
    return problem ? finding(`pfn ${p}: ${name} succeeded, ${problem}`, { pages: [p], frames }) : null;
  },
};

export default property;
