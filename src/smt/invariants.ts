// The auxiliary invariants: what the properties' SMT forms need besides themselves to be
// inductive. Each is proven inductive like a property (src/smt/prove.ts), and each holds in
// the initial state. They say that fields stay in their encodings, that MMIO pages carry no
// ownership, that a block leaf's block is whole, how VM slots look, that annotations name an
// existing slot and gfn, that hyp data lives only in hyp pages, how the ghost borrower
// numbering (src/smt/ghost.ts) ties to the guest leaves, and what host_share_guest_count counts.

import { Contents, GuestEntry, Owner, PageState, S2, VmLife } from "../../model/state.js";
import { vmPagesHypOwned } from "./forms.js";
import { isSb } from "./ghost.js";
import type { SymPkvm } from "./kernel.js";
import { sbCount } from "./maps.js";
import type { B, N } from "./z3.js";

export interface Invariant {
  readonly id: string;
  readonly description: string;
  /** About the ghost numbering alone: true by construction where counts are sums (finite). */
  readonly ghostOnly?: boolean;
  holds(k: SymPkvm): B;
  /** Its conjuncts, one per VM slot, proved one at a time: z3 copes with a slot at a time. */
  parts?(k: SymPkvm): B[];
}

const { NOPAGE, OWNED, SHARED_OWNED: SO, SHARED_BORROWED: SB } = PageState;

function everyPage(k: SymPkvm, body: (p: N) => B): B {
  return k.L.pageDom.forall(k.smt.int(0), k.L.pages, body);
}

function everyGfn(k: SymPkvm, v: number, body: (g: N) => B): B {
  return k.L.vms[v].gfnDom.forall(k.smt.int(0), k.L.vms[v].gfns, body);
}

function within(k: SymPkvm, x: N, lo: number, hi: number): B {
  return k.smt.and(k.smt.ge(x, lo), k.smt.le(x, hi));
}

/** body(v, g, pfn) holds for every mapped leaf (v, g): per slot, and as a whole. */
function everyMappedLeaf(body: (k: SymPkvm, v: number, g: N, p: N) => B): Pick<Invariant, "holds" | "parts"> {
  const parts = (k: SymPkvm) =>
    k.L.vms.map((_, v) => everyGfn(k, v, (g) => k.smt.implies(k.smt.eq(k.guestEntry(v, g), GuestEntry.MAPPED), body(k, v, g, k.guestPfn(v, g)))));
  return { parts, holds: (k) => k.smt.and(...parts(k)) };
}

function blockStart(k: SymPkvm, g: N): N {
  return k.smt.sub(g, k.smt.mod(g, k.L.blockPages));
}

/** Fields that the page's stage-2 entry and contents label do not use are zero. */
function canonicalEntry(k: SymPkvm, p: N): B {
  const { smt } = k;
  const guestAnnotation = smt.and(smt.eq(k.hostS2(p), S2.ANNOTATION), smt.eq(k.annotationOwner(p), Owner.GUEST));
  return smt.and(
    smt.implies(smt.not(guestAnnotation), smt.and(smt.eq(k.annotationVm(p), 0), smt.eq(k.annotationGfn(p), 0))),
    smt.implies(smt.ne(k.hostS2(p), S2.ANNOTATION), smt.eq(k.annotationOwner(p), Owner.HYP)),
    smt.implies(smt.ne(k.hostS2(p), S2.IDMAP), smt.same(k.s.page.s2prot.at(p), smt.prot(0))),
    smt.implies(smt.ne(k.contents(p), Contents.GUEST), smt.eq(k.contentsVm(p), 0)),
  );
}

export const INVARIANTS: readonly Invariant[] = [
  {
    id: "encodings",
    description: "page states, stage-2 kinds, contents labels and counts stay in their encodings",
    holds: (k) =>
      everyPage(k, (p) =>
        k.smt.and(
          within(k, k.hostState(p), 0, 3),
          within(k, k.hypState(p), 0, 3),
          within(k, k.hostS2(p), 0, 2),
          within(k, k.contents(p), 0, 3),
          within(k, k.annotationOwner(p), 0, 1),
          k.smt.ge(k.hostShareGuestCount(p), 0),
          k.smt.ge(k.refcount(p), 0),
          canonicalEntry(k, p),
        ),
      ),
  },
  {
    id: "mmio-unowned",
    description: "a pfn that is not memory has no owner, count, pin, mark or mapping at EL2",
    holds: (k) =>
      everyPage(k, (p) => {
        const { smt } = k;
        return smt.implies(
          smt.not(k.L.isMemory(p)),
          smt.and(
            smt.eq(k.hostState(p), NOPAGE),
            smt.eq(k.hypState(p), NOPAGE),
            smt.eq(k.hostShareGuestCount(p), 0),
            smt.eq(k.refcount(p), 0),
            smt.not(k.ffaShared(p)),
            smt.not(k.leaked(p)),
            smt.not(k.hypS1Mapped(p)),
          ),
        );
      }),
  },
  {
    id: "leaf-encoding",
    description: "an absent or poisoned leaf is all zero; a mapped one maps a memory page in a state",
    holds: (k) =>
      k.smt.and(
        ...k.L.vms.map((_, v) =>
          everyGfn(k, v, (g) => {
            const { smt } = k;
            const e = k.guestEntry(v, g);
            const leaf = k.s.vm[v].leaf;
            const empty = smt.and(
              smt.eq(leaf.state.at(g), 0),
              smt.eq(k.guestPfn(v, g), 0),
              smt.same(k.guestProt(v, g), smt.prot(0)),
              smt.not(k.guestBlock(v, g)),
            );
            const mapped = smt.and(within(k, leaf.state.at(g), 1, 3), k.L.isMemory(k.guestPfn(v, g)));
            return smt.and(within(k, e, 0, 2), smt.ite(smt.eq(e, GuestEntry.MAPPED), mapped, empty));
          }),
        ),
      ),
  },
  {
    id: "whole-blocks",
    description: "a block leaf's whole aligned block is mapped SB, contiguous, with one prot, inside the guest",
    holds: (k) =>
      k.smt.and(
        ...k.L.vms.map((_, v) =>
          everyGfn(k, v, (g) => {
            const { smt } = k;
            const b = k.L.blockPages;
            const start = blockStart(k, g);
            const base = smt.sub(k.guestPfn(v, g), g);
            const member = (h: N) =>
              smt.and(
                k.guestBlock(v, h),
                isSb(k, v, h),
                smt.eq(smt.sub(k.guestPfn(v, h), h), base),
                smt.same(k.guestProt(v, h), k.guestProt(v, g)),
              );
            return smt.implies(
              k.guestBlock(v, g),
              smt.and(smt.eq(smt.mod(base, b), 0), smt.le(smt.add(start, b), k.gfns(v)), ...k.blockRange(start, b).map(([h]) => member(h))),
            );
          }),
        ),
      ),
  },
  {
    id: "vm-slots",
    description: "an absent slot has no metadata or vCPUs; vCPU slots past the VM's count are empty",
    holds: (k) => {
      const { smt } = k;
      return smt.and(
        ...k.L.vms.map((slot, v) =>
          smt.and(
            within(k, k.vmLife(v), VmLife.ABSENT, VmLife.DYING),
            smt.implies(smt.eq(k.vmLife(v), VmLife.ABSENT), smt.and(smt.eq(k.vmMetaPfn(v), 0), ...k.s.vm[v].vcpu.map((c) => smt.eq(c, -1)))),
            ...k.s.vm[v].vcpu.map((c, i) => smt.and(smt.ge(c, -1), smt.implies(smt.ge(i, slot.vcpus), smt.eq(c, -1)))),
          ),
        ),
        smt.iff(smt.eq(k.loadedVm(), -1), smt.eq(k.loadedVcpu(), -1)),
        smt.ge(k.loadedVm(), -1),
      );
    },
  },
  {
    id: "annotations-in-range",
    description: "a guest annotation names an existing VM slot and a gfn inside it",
    holds: (k) =>
      everyPage(k, (p) => {
        const { smt } = k;
        const vm = k.annotationVm(p);
        const gfn = k.annotationGfn(p);
        const inRange = smt.or(...k.L.vms.map((_, v) => smt.and(smt.eq(vm, v), smt.ge(gfn, 0), smt.lt(gfn, k.gfns(v)))));
        const guest = smt.and(smt.eq(k.hostS2(p), S2.ANNOTATION), smt.eq(k.annotationOwner(p), Owner.GUEST));
        return smt.implies(guest, inRange);
      }),
  },
  {
    id: "leaked-pages-shape",
    description: "a leaked page is not FF-A shared, pinned or mapped at EL2, and it is annotated for the guest exactly when host NOPAGE",
    holds: (k) =>
      everyPage(k, (p) => {
        const { smt } = k;
        const nopage = smt.eq(k.hostState(p), NOPAGE);
        const annotated = smt.eq(k.hostS2(p), S2.ANNOTATION);
        return smt.implies(
          k.leaked(p),
          smt.and(
            smt.not(k.ffaShared(p)),
            smt.eq(k.refcount(p), 0),
            smt.not(k.hypS1Mapped(p)),
            smt.iff(nopage, annotated),
            smt.implies(annotated, smt.eq(k.annotationOwner(p), Owner.GUEST)),
          ),
        );
      }),
  },
  {
    id: "hyp-data-in-hyp-pages",
    description: "a page labelled with hyp data is hyp OWNED",
    holds: (k) => everyPage(k, (p) => k.smt.implies(k.smt.eq(k.contents(p), Contents.HYP), k.smt.eq(k.hypState(p), PageState.OWNED))),
  },
  {
    id: "borrowers-exclusive",
    description: "a page is lent to one kind of borrower (hyp, FF-A, guests) at a time, only while host SHARED_OWNED; a hyp page is not the host's",
    holds: (k) =>
      everyPage(k, (p) => {
        const { smt } = k;
        const host = k.hostState(p);
        const hyp = k.hypState(p);
        const ffa = k.ffaShared(p);
        const guests = smt.ne(k.hostShareGuestCount(p), 0);
        return smt.and(
          smt.implies(smt.eq(host, OWNED), smt.and(smt.eq(hyp, NOPAGE), smt.not(ffa), smt.not(guests))),
          smt.implies(smt.eq(hyp, SB), smt.and(smt.eq(host, SO), smt.not(ffa), smt.not(guests))),
          smt.implies(ffa, smt.and(smt.eq(host, SO), smt.eq(hyp, NOPAGE), smt.not(guests))),
          smt.implies(guests, smt.and(smt.eq(host, SO), smt.eq(hyp, NOPAGE))),
          smt.implies(smt.eq(hyp, OWNED), smt.eq(host, NOPAGE)),
        );
      }),
  },
  {
    id: "guest-leaves-in-ram",
    description: "a mapped leaf is a present VM's, and maps a RAM page the hyp does not hold",
    ...everyMappedLeaf((k, v, _g, p) => k.smt.and(k.smt.ne(k.vmLife(v), VmLife.ABSENT), k.L.isMemory(p), k.smt.eq(k.hypState(p), NOPAGE))),
  },
  {
    id: "guest-owned-leaves",
    description: "a guest OWNED leaf maps a page the host has annotated as foreign (host NOPAGE); a guest SO leaf, one the host borrows (host SB)",
    ...everyMappedLeaf((k, v, g, p) => {
        const { smt } = k;
        const st = k.guestState(v, g);
        const host = k.hostState(p);
        return smt.and(
          smt.implies(smt.eq(st, OWNED), smt.and(smt.eq(host, NOPAGE), smt.eq(k.hostS2(p), S2.ANNOTATION))),
          smt.implies(smt.eq(st, SO), smt.eq(host, SB)),
        );
      }),
  },
  {
    id: "guest-borrowed-leaves",
    description: "a guest SB leaf is a non-protected VM's, of a page the host lent to guests only (host SO, a share count, no FF-A share)",
    ...everyMappedLeaf((k, v, g, p) => {
        const { smt } = k;
        const lent = smt.and(smt.not(k.isProtected(v)), smt.eq(k.hostState(p), SO), smt.gt(k.hostShareGuestCount(p), 0), smt.not(k.ffaShared(p)));
        return smt.implies(smt.eq(k.guestState(v, g), SB), lent);
      }),
  },
  {
    id: "ghost-owners",
    description: "the ghost owner of a page is the leaf that owns it (OWNED or SO), where one does",
    ghostOnly: true,
    ...everyMappedLeaf((k, v, g, p) => {
      const { smt } = k;
      const owns = smt.or(smt.eq(k.guestState(v, g), OWNED), smt.eq(k.guestState(v, g), SO));
      return smt.implies(owns, smt.and(smt.eq(k.s.ghost!.ownerVm.at(p), v), smt.eq(k.s.ghost!.ownerGfn.at(p), g)));
    }),
  },
  {
    id: "hyp-pages-annotated",
    description: "a hyp OWNED page is annotated in the host stage-2: the host cannot reach it",
    holds: (k) => everyPage(k, (p) => k.smt.implies(k.smt.eq(k.hypState(p), OWNED), k.smt.eq(k.hostS2(p), S2.ANNOTATION))),
  },
  {
    id: "vm-pages-hyp-owned",
    description: "the metadata pages of present VMs and vCPUs are hyp OWNED, below the limit, each used once",
    holds: vmPagesHypOwned,
  },
  {
    id: "ghost-borrowers-numbered",
    description: "each SB leaf of a slot has a number below its page's ghost count, and is that number's borrower",
    ghostOnly: true,
    holds: (k) => {
      const { smt } = k;
      const ghost = k.s.ghost!;
      return smt.and(
        ...k.L.vms.map((_, v) =>
          everyGfn(k, v, (g) => {
            const gv = ghost.vm[v];
            const p = k.guestPfn(v, g);
            const i = gv.slot.at(g);
            return smt.implies(isSb(k, v, g), smt.and(smt.ge(i, 0), smt.lt(i, gv.sbCount.at(p)), smt.eq(gv.borrower(p, i), g)));
          }),
        ),
      );
    },
  },
  {
    id: "ghost-numbers-borrow",
    description: "each number below a page's ghost count is an SB leaf of the slot mapping that page",
    ghostOnly: true,
    holds: (k) => {
      const { smt } = k;
      const ghost = k.s.ghost!;
      return smt.and(
        ...k.L.vms.map((slot, v) => {
          const gv = ghost.vm[v];
          const numbered = (p: N, i: N) => {
            const g = gv.borrower(p, i);
            return smt.and(smt.inRange(g, 0, slot.gfns), isSb(k, v, g), smt.eq(k.guestPfn(v, g), p), smt.eq(gv.slot.at(g), i));
          };
          const p = smt.bound();
          const i = smt.bound();
          const counted = smt.and(smt.inRange(p, 0, k.L.pages), smt.inRange(i, 0, gv.sbCount.at(p)));
          // Number 0 on its own (implied) hands the solver a borrower for every counted page.
          const first = everyPage(k, (q) => smt.and(smt.ge(gv.sbCount.at(q), 0), smt.implies(smt.gt(gv.sbCount.at(q), 0), numbered(q, smt.int(0)))));
          return smt.and(first, smt.Z.ForAll([p, i], smt.implies(counted, numbered(p, i))));
        }),
      );
    },
  },
  {
    id: "ghost-counts-nonnegative",
    description: "no page has fewer than zero borrowers in a slot",
    ghostOnly: true,
    holds: (k) => k.smt.and(...k.L.vms.map((_, v) => everyPage(k, (p) => k.smt.ge(k.s.ghost!.vm[v].sbCount.at(p), 0)))),
  },
  {
    id: "ghost-absent-slots-borrow-nothing",
    description: "an absent VM slot borrows nothing: its ghost counts are zero",
    ghostOnly: true,
    holds: (k) => {
      const { smt } = k;
      const ghost = k.s.ghost!;
      return smt.and(
        ...k.L.vms.map((_, v) =>
          smt.implies(smt.eq(k.vmLife(v), VmLife.ABSENT), everyPage(k, (p) => smt.eq(ghost.vm[v].sbCount.at(p), 0))),
        ),
      );
    },
  },
  {
    id: "share-count-covers-borrowers",
    description: "host_share_guest_count is at least the number of SB leaves: a page a guest still borrows has a count",
    holds: (k) => everyPage(k, (p) => k.smt.ge(k.hostShareGuestCount(p), sbCount(k, p))),
  },
  {
    id: "share-count-exact",
    description: "host_share_guest_count counts the SB leaves, plus what finalized VMs left behind (leaked pages only, which stay shared)",
    holds: (k) =>
      everyPage(k, (p) => {
        const { smt } = k;
        const sum = sbCount(k, p);
        const cnt = k.hostShareGuestCount(p);
        return smt.and(
          smt.implies(smt.not(k.leaked(p)), smt.eq(cnt, sum)),
          smt.implies(smt.and(k.leaked(p), smt.eq(k.hostState(p), PageState.SHARED_OWNED)), smt.gt(cnt, sum)),
        );
      }),
  },
];
