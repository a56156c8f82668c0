// Invariants 2-5: the share bookkeeping agrees with who borrows what.
//   2 hyp SB => host SO, no guest share count, not FF-A shared.
//   3 a guest SB leaf borrows a host SO page, from a non-protected VM; the share count is the
//     number of SB leaves; a page shared with guests is shared with nobody else.
//   4 host SO => shared with exactly one of: hyp, guests, FF-A.
//   5 host SB <=> exactly one protected guest leaf maps the page SO.
// Leaked pages are left out (property 15): a finalized VM's stale share count stays behind.

import { GuestEntry, PageState, VmLife, type PkvmState } from "../model/state.js";
import { firstPageProblem, type GuestMaps } from "./lib/guest-maps.js";
import { leaves, stateName, tracked } from "./lib/pages.js";
import { finding, type Finding, type Property } from "./property.js";

const { NOPAGE, SHARED_OWNED: SO, SHARED_BORROWED: SB } = PageState;

function pageProblem(s: PkvmState, maps: GuestMaps, p: number): string | null {
  const host = s.hostState(p);
  const hypSb = s.hypState(p) === SB;
  const cnt = s.hostShareGuestCount(p);
  const ffa = s.ffaShared(p);
  if (hypSb && (host !== SO || cnt !== 0 || ffa)) {
    return `hyp SB but host ${stateName(host)}, share count ${cnt}${ffa ? ", FF-A shared" : ""}`;
  }
  if (cnt !== maps.mapped(p, SB)) return `share count ${cnt} but ${maps.mapped(p, SB)} guest SB ${leaves(maps.mapped(p, SB))}`;
  if (cnt > 0 && host !== SO) return `guests borrow it but host ${stateName(host)}`;
  if (cnt > 0 && (s.hypState(p) !== NOPAGE || ffa)) {
    return `shared with guests and also ${ffa ? "with FF-A" : `hyp ${stateName(s.hypState(p))}`}`;
  }
  if (ffa && host !== SO) return `FF-A shared but host ${stateName(host)}`;
  // Two sharers at once were refused above; what is left of invariant 4 is "at least one".
  if (host === SO && !hypSb && cnt === 0 && !ffa) return "host SO but shared with nobody (not hyp SB, share count 0, not FF-A)";
  if ((host === SB) !== (maps.mapped(p, SO) === 1)) {
    return `host ${stateName(host)} but mapped SO by ${maps.mapped(p, SO)} guest ${leaves(maps.mapped(p, SO))}`;
  }
  return null;
}

/**
 * Invariants 3 and 5 per leaf: only non-protected VMs borrow (host_share_guest), and they do
 * nothing else: owning and sharing back is for protected VMs (host_donate_guest, MEM_SHARE).
 */
function leafProblem(s: PkvmState): Finding | null {
  const { vms } = s.w.config;
  for (let v = 0; v < vms.length; v++) {
    if (s.vmLife(v) === VmLife.ABSENT) continue;
    for (let g = 0; g < vms[v].gfns; g++) {
      if (s.guestEntry(v, g) !== GuestEntry.MAPPED) continue;
      const p = s.guestPfn(v, g);
      const st = s.guestState(v, g);
      if (!tracked(s, p) || (st === SB) !== vms[v].protected) continue;
      const kind = vms[v].protected ? "protected" : "non-protected";
      return finding(`pfn ${p}: ${kind} vm ${v} maps it ${stateName(st)} at gfn ${g}`, { pages: [p], frames: [[v, g]] });
    }
  }
  return null;
}

const property: Property = {
  id: "share-consistency",
  description: "host SO / SB, hyp SB, guest SB, the share count and the FF-A mark agree (invariants 2-5)",
  checkState(s) {
    return firstPageProblem(s, pageProblem) ?? leafProblem(s);
  },
};

export default property;
