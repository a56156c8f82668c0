// Ghost state for the proofs: host_share_guest_count is "the number of guest SB leaves mapping
// the page", a count over an unbounded set of gfns, which first-order logic cannot state. The
// ghost makes it a bijection: per VM slot v and page p, sbCount_v(p) leaves of v borrow p, and
// they are numbered 0 .. sbCount_v(p) - 1 (borrower_v(p, i) is the gfn of number i, slot_v(g)
// the number of gfn g). Sharing appends a borrower; unsharing moves the last one into the gap.
// And per page, the leaf that owns it: set when host_donate_guest makes the leaf (an owning leaf
// keeps its page until it goes). The transitions never read the ghost; src/smt/invariants.ts
// states what ties it to the state, and the proofs show those ties are kept.

import { GuestEntry, PageState } from "../../model/state.js";
import type { Field } from "./domain.js";
import type { SymPkvm } from "./kernel.js";
import type { Layout } from "./layout.js";
import type { Instance } from "./relation.js";
import type { Ghost, GhostVm, SymState } from "./state.js";
import type { SymArgs } from "./transitions.js";
import type { B, N, Smt } from "./z3.js";

type Arr2 = ReturnType<Smt["Z"]["Array"]["const"]>;

function ghostVm(sbCount: Field<N>, slot: Field<N>, borrower: Arr2): GhostVm {
  return {
    sbCount,
    slot,
    borrower: (p, i) => (borrower as unknown as { select(a: N, b: N): N }).select(p, i),
  };
}

export function freshGhost(L: Layout, name: string): Ghost {
  const { smt } = L;
  const { Z } = smt;
  return {
    ownerVm: L.pageDom.fresh(`${name}.ghost.ownerVm`, "int"),
    ownerGfn: L.pageDom.fresh(`${name}.ghost.ownerGfn`, "int"),
    vm: L.vms.map((slot, v) =>
      ghostVm(
        L.pageDom.fresh(`${name}.ghost${v}.sbCount`, "int"),
        slot.gfnDom.fresh(`${name}.ghost${v}.slot`, "int"),
        Z.Array.const(`${name}.ghost${v}.borrower`, Z.Int.sort(), Z.Int.sort(), Z.Int.sort()) as unknown as Arr2,
      ),
    ),
  };
}

/** No borrowers anywhere (the initial state). */
export function emptyGhost(L: Layout, name: string): Ghost {
  const g = freshGhost(L, name);
  return { ...g, vm: g.vm.map((x) => ({ ...x, sbCount: L.pageDom.concrete("int", []) })) };
}

/** The leaf (v, g) borrows its page. */
export function isSb(k: SymPkvm, v: number, g: N): B {
  const { smt } = k;
  return smt.and(smt.eq(k.guestEntry(v, g), GuestEntry.MAPPED), smt.eq(k.guestState(v, g), PageState.SHARED_BORROWED));
}

function lambda2(smt: Smt, body: (p: N, i: N) => N): Arr2 {
  const p = smt.bound();
  const i = smt.bound();
  return smt.Z.Lambda([p, i], body(p, i) as never) as unknown as Arr2;
}

/** host_share_guest: the leaves [gfn, gfn + nr) become the last borrowers of [pfn, pfn + nr). */
function share(k: SymPkvm, a: SymArgs, g: GhostVm): GhostVm {
  const { smt, L } = k;
  const { pfn, gfn, nr_pages: nr } = a;
  const inPages = (p: N) => k.inRange(p, pfn, nr);
  return ghostVm(
    L.pageDom.map("int", (p) => smt.ite(inPages(p), smt.add(g.sbCount.at(p), 1), g.sbCount.at(p))),
    L.vms[a.vm].gfnDom.map("int", (x) => smt.ite(k.inRange(x, gfn, nr), g.sbCount.at(smt.add(pfn, smt.sub(x, gfn))), g.slot.at(x))),
    lambda2(smt, (p, i) => smt.ite(smt.and(inPages(p), smt.eq(i, g.sbCount.at(p))), smt.add(gfn, smt.sub(p, pfn)), g.borrower(p, i))),
  );
}

/** host_unshare_guest: each page's last borrower takes the number of the leaf that goes. */
function unshare(k: SymPkvm, a: SymArgs, g: GhostVm): GhostVm {
  const { smt, L } = k;
  const { vm, gfn, nr_pages: nr } = a;
  const pfn = k.guestPfn(vm, gfn);
  const inPages = (p: N) => k.inRange(p, pfn, nr);
  const leafOf = (p: N) => smt.add(gfn, smt.sub(p, pfn));
  const last = (p: N) => smt.sub(g.sbCount.at(p), 1);
  const moves = (x: N) => {
    const p = k.guestPfn(vm, x);
    return smt.and(isSb(k, vm, x), smt.not(k.inRange(x, gfn, nr)), inPages(p), smt.eq(g.slot.at(x), last(p)));
  };
  return ghostVm(
    L.pageDom.map("int", (p) => smt.ite(inPages(p), last(p), g.sbCount.at(p))),
    L.vms[vm].gfnDom.map("int", (x) => smt.ite(moves(x), g.slot.at(leafOf(k.guestPfn(vm, x))), g.slot.at(x))),
    lambda2(smt, (p, i) => smt.ite(smt.and(inPages(p), smt.eq(i, g.slot.at(leafOf(p)))), g.borrower(p, last(p)), g.borrower(p, i))),
  );
}

/**
 * The ghost after a successful step of `inst` from k.s (the state before): only sharing with a
 * guest, unsharing, and freeing a VM's slot change who borrows what.
 */
export function ghostStep(k: SymPkvm, inst: Instance, a: SymArgs, post: SymState): SymState {
  const ghost = k.s.ghost;
  if (!ghost) return post;
  const vm = inst.vm;
  const change = (fn: (g: GhostVm) => GhostVm): SymState => ({ ...post, ghost: { ...ghost, vm: ghost.vm.map((g, v) => (v === vm ? fn(g) : g)) } });
  switch (inst.action.name) {
    case "host_donate_guest": {
      const { smt, L } = k;
      const at = (p: N) => smt.eq(p, a.pfn);
      return {
        ...post,
        ghost: {
          ...ghost,
          ownerVm: L.pageDom.map("int", (p) => smt.ite(at(p), smt.int(vm), ghost.ownerVm.at(p))),
          ownerGfn: L.pageDom.map("int", (p) => smt.ite(at(p), a.gfn, ghost.ownerGfn.at(p))),
        },
      };
    }
    case "host_share_guest":
      return change((g) => share(k, a, g));
    case "host_unshare_guest":
      return change((g) => unshare(k, a, g));
    case "finalize_teardown_vm":
      return change((g) => ({ ...g, sbCount: k.L.pageDom.concrete("int", []) }));
    default:
      return post;
  }
}
