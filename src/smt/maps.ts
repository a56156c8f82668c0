// properties/lib/guest-maps.ts over symbolic states: what the guest leaves of the present VMs
// map, as formulas. "Some leaf", "every leaf" and "at most one leaf" are quantifiers over each
// slot's gfns (conjunctions in the finite backend); counting a page's SB leaves needs a sum,
// which the finite backend writes out and the unbounded one reads from a ghost count whose
// exactness is an invariant (src/smt/ghost.ts).

import { GuestEntry, PageState, VmLife } from "../../model/state.js";
import type { SymPkvm } from "./kernel.js";
import type { B, N } from "./z3.js";

export type LeafPred = (v: number, g: N) => B;

/** A leaf of a present VM, mapped. */
export function present(k: SymPkvm, v: number, g: N): B {
  const { smt } = k;
  return smt.and(smt.ne(k.vmLife(v), VmLife.ABSENT), smt.eq(k.guestEntry(v, g), GuestEntry.MAPPED));
}

/** A present leaf mapping page p in state st (any state when st is omitted). */
export function mapsPage(k: SymPkvm, p: N, st?: PageState): LeafPred {
  const { smt } = k;
  return (v, g) =>
    smt.and(present(k, v, g), smt.eq(k.guestPfn(v, g), p), st === undefined ? smt.T : smt.eq(k.guestState(v, g), st));
}

/** A present leaf that owns page p (OWNED or SO). */
export function ownsPage(k: SymPkvm, p: N): LeafPred {
  const { smt } = k;
  return (v, g) => smt.or(mapsPage(k, p, PageState.OWNED)(v, g), mapsPage(k, p, PageState.SHARED_OWNED)(v, g));
}

export function anyLeaf(k: SymPkvm, pred: LeafPred): B {
  const { smt } = k;
  return smt.or(...k.L.vms.map((slot, v) => slot.gfnDom.exists(smt.int(0), slot.gfns, (g) => pred(v, g))));
}

/** No two different leaves satisfy pred. */
export function atMostOneLeaf(k: SymPkvm, pred: LeafPred): B {
  const { smt } = k;
  const { vms } = k.L;
  const pairs: B[] = [];
  for (let v = 0; v < vms.length; v++) {
    for (let w = v; w < vms.length; w++) {
      pairs.push(
        vms[v].gfnDom.forall(smt.int(0), vms[v].gfns, (g) =>
          vms[w].gfnDom.forall(smt.int(0), vms[w].gfns, (h) =>
            smt.implies(smt.and(v === w ? smt.ne(g, h) : smt.T, pred(v, g)), smt.not(pred(w, h))),
          ),
        ),
      );
    }
  }
  return smt.and(...pairs);
}

export function exactlyOneLeaf(k: SymPkvm, pred: LeafPred): B {
  return k.smt.and(anyLeaf(k, pred), atMostOneLeaf(k, pred));
}

/** The number of present leaves mapping page p shared-borrowed (p below the limit). */
export function sbCount(k: SymPkvm, p: N): N {
  const { smt } = k;
  const counts = k.L.vms.map((slot, v) => {
    const live = smt.ne(k.vmLife(v), VmLife.ABSENT);
    if (k.s.ghost) return smt.ite(live, k.s.ghost.vm[v].sbCount.at(p), smt.int(0));
    if (k.L.backend.unbounded) throw new Error("sbCount: the unbounded backend counts through the ghost state");
    const n = smt.num(slot.gfns)!;
    return smt.count(Array.from({ length: n }, (_, g) => mapsPage(k, p, PageState.SHARED_BORROWED)(v, smt.int(g))));
  });
  return counts.reduce((a, b) => smt.add(a, b), smt.int(0));
}
