// Invariant 11: a page is never OWNED by one component while another's table still maps it.
// Host OWNED: no guest leaf and no hyp stage-1 mapping. Hyp OWNED: no guest leaf and no way in
// through the host stage-2. Guest OWNED: no other leaf, no host way in, no hyp mapping. And each
// hyp page a present VM is built from is hyp OWNED and serves that one purpose only.

import { PageState, S2, VmLife, type PkvmState } from "../model/state.js";
import type { World } from "../model/world.js";
import { firstPageProblem, type GuestMaps } from "./lib/guest-maps.js";
import { hostAccessible, leaves, s2Name, stateName } from "./lib/pages.js";
import { findVmPage, useName } from "./lib/vm-pages.js";
import { finding, type Finding, type Property } from "./property.js";

const { OWNED } = PageState;

function pageProblem(s: PkvmState, maps: GuestMaps, p: number): string | null {
  const mapped = maps.mappings(p);
  if (s.hostState(p) === OWNED) {
    if (mapped > 0) return `host OWNED but ${maps.where(p)} maps it`;
    if (s.hypS1Mapped(p)) return "host OWNED but mapped at EL2";
  }
  if (s.hypState(p) === OWNED) {
    if (mapped > 0) return `hyp OWNED but ${maps.where(p)} maps it`;
    if (hostAccessible(s, p)) return `hyp OWNED but host stage-2 ${s2Name(s.hostS2(p))}`;
  }
  if (maps.mapped(p, OWNED) > 0) {
    if (mapped > 1) return `${maps.where(p)} owns it but it is also mapped by ${mapped - 1} other guest ${leaves(mapped - 1)}`;
    if (s.hostS2(p) !== S2.ANNOTATION) return `${maps.where(p)} owns it but host stage-2 ${s2Name(s.hostS2(p))}`;
    if (s.hypS1Mapped(p)) return `${maps.where(p)} owns it but it is mapped at EL2`;
  }
  return null;
}

const usedBy = new WeakMap<World, Uint8Array>();

/** A page a present VM uses that is not hyp OWNED, or that two uses share. */
function vmPageProblem(s: PkvmState): Finding | null {
  let seen = usedBy.get(s.w);
  if (!seen) usedBy.set(s.w, (seen = new Uint8Array(s.w.pages)));
  seen.fill(0);
  const { vms } = s.w.config;
  for (let v = 0; v < vms.length; v++) {
    if (s.vmLife(v) === VmLife.ABSENT) continue;
    const problem = findVmPage(s, v, (p, use, i) => {
      const what = () => useName(v, use, i);
      if (p >= s.w.pages) return finding(`pfn ${p}: ${what()} is past the end of memory`, { pages: [p] });
      if (s.hypState(p) !== OWNED) return finding(`pfn ${p}: ${what()} but hyp ${stateName(s.hypState(p))}`, { pages: [p] });
      if (seen[p] !== 0) return finding(`pfn ${p}: ${what()} is used twice by present VMs`, { pages: [p] });
      seen[p] = 1;
      return null;
    });
    if (problem) return problem;
  }
  return null;
}

const property: Property = {
  id: "no-reuse-while-mapped",
  description: "a page is never owned by one component while mapped in another's table",
  invariant: 11,
  checkState(s) {
    return firstPageProblem(s, pageProblem) ?? vmPageProblem(s);
  },
};

export default property;
