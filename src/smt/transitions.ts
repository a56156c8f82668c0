// Every action of model/actions.ts as a symbolic transition: the model's checks in the model's
// order, then its effects, over SymPkvm. Each function restates the model function of the same
// name (model/host_hyp.ts, ffa.ts, guest_share.ts, guest_donate.ts, lifecycle.ts, access.ts);
// test/smt-diff.test.ts holds the two to agreement on random reachable states.
//
// Arguments are symbolic but for the VM slot, which is a JS number: a transition is encoded
// once per slot (`vm` ranges over a handful of slots; the slots are symmetric in the proofs).
// host_topup_memcache is not encoded: the SMT engine runs with memcache: false.

import { Contents, GuestEntry, Owner, PageState, PROT_R, PROT_RWX, PROT_W, S2, VmLife } from "../../model/state.js";
import { Flow, type Outcome } from "./flow.js";
import type { SymPkvm } from "./kernel.js";
import type { LeafUpdate } from "./state.js";
import type { B, N, P } from "./z3.js";

export interface SymArgs {
  readonly vm: number;
  readonly vcpu: N;
  readonly pfn: N;
  readonly gfn: N;
  readonly nr_pages: N;
  readonly prot: P;
  readonly mkold: B;
}

export type SymTransition = (k: SymPkvm, a: SymArgs) => Outcome;

const { NOPAGE, OWNED, SHARED_OWNED, SHARED_BORROWED } = PageState;
const MMIO_PROT = PROT_R | PROT_W;

function emptyLeaf(k: SymPkvm, entry: GuestEntry): LeafUpdate {
  const { smt } = k;
  return { entry: smt.int(entry), state: smt.int(0), prot: smt.prot(0), block: smt.F, pfn: smt.int(0) };
}

// ---- model/host_hyp.ts ---------------------------------------------------------------------

/** __pkvm_host_share_hyp(pfn) */
function host_share_hyp(k: SymPkvm, { pfn }: SymArgs): Outcome {
  const f = new Flow(k);
  f.check(k.hostCheckPageStateRange(pfn, 1, OWNED));
  f.check(k.hypCheckPageStateRange(pfn, 1, NOPAGE));
  return f.done(() => k.setPage(pfn, { host: k.smt.int(SHARED_OWNED), hyp: k.smt.int(SHARED_BORROWED) }));
}

/** __pkvm_host_unshare_hyp(pfn) */
function host_unshare_hyp(k: SymPkvm, { pfn }: SymArgs): Outcome {
  const f = new Flow(k);
  f.check(k.hostCheckPageStateRange(pfn, 1, SHARED_OWNED));
  f.check(k.hypCheckPageStateRange(pfn, 1, SHARED_BORROWED));
  f.fail(k.smt.ne(k.refcount(pfn), 0), "-EBUSY");
  return f.done(() => k.setPage(pfn, { hyp: k.smt.int(NOPAGE), host: k.smt.int(OWNED) }));
}

/** __pkvm_host_donate_hyp(pfn, nr_pages) */
function host_donate_hyp(k: SymPkvm, { pfn, nr_pages }: SymArgs): Outcome {
  const f = new Flow(k);
  f.fail(k.smt.not(k.pfnRangeIsValid(pfn, nr_pages)), "-EINVAL");
  f.check(k.hostCheckPageStateRange(pfn, nr_pages, OWNED));
  f.check(k.hypCheckPageStateRange(pfn, nr_pages, NOPAGE));
  return f.done(() => k.doHostDonateHyp(pfn, nr_pages));
}

/** __pkvm_hyp_donate_host(pfn, nr_pages): does not zero, its callers must. */
function hyp_donate_host(k: SymPkvm, { pfn, nr_pages }: SymArgs): Outcome {
  const { smt } = k;
  const f = new Flow(k);
  f.fail(smt.not(k.pfnRangeIsValid(pfn, nr_pages)), "-EINVAL");
  f.check(k.hypCheckPageStateRange(pfn, nr_pages, OWNED));
  f.check(k.hostCheckPageStateRange(pfn, nr_pages, NOPAGE));
  f.fail(k.L.pageDom.exists(pfn, smt.add(pfn, nr_pages), (p) => smt.ne(k.refcount(p), 0)), "-EBUSY");
  return f.done(() => k.doHypDonateHost(pfn, nr_pages));
}

/** hyp_pin_shared_mem(from, to): the hyp maps a host-shared page while it holds a pin. */
function hyp_pin_shared_mem(k: SymPkvm, { pfn, nr_pages }: SymArgs): Outcome {
  const { smt } = k;
  const f = new Flow(k);
  f.check(k.hostCheckPageStateRange(pfn, nr_pages, SHARED_OWNED));
  f.check(k.hypCheckPageStateRange(pfn, nr_pages, SHARED_BORROWED));
  f.fail(k.L.pageDom.exists(pfn, smt.add(pfn, nr_pages), (p) => smt.eq(k.refcount(p), 0xffff)), "PANIC"); // hyp_page_ref_inc BUG_ON
  return f.done(() => k.setPageRange(pfn, nr_pages, { ref: (p) => smt.add(k.refcount(p), 1), s1: smt.T }));
}

/** A page of [pfn, pfn + nr) lies at or past the limit. */
function pastLimit(k: SymPkvm, pfn: N, nr: N): B {
  const { smt } = k;
  return smt.and(smt.gt(nr, 0), smt.gt(smt.add(pfn, nr), k.L.pages));
}

/** hyp_unpin_shared_mem(from, to): void in the kernel; a refcount of 0 is a BUG_ON. */
function hyp_unpin_shared_mem(k: SymPkvm, { pfn, nr_pages }: SymArgs): Outcome {
  const { smt } = k;
  const f = new Flow(k);
  const zero = k.L.pageDom.exists(pfn, smt.add(pfn, nr_pages), (p) => smt.eq(k.refcount(p), 0));
  f.fail(smt.or(pastLimit(k, pfn, nr_pages), zero), "PANIC");
  return f.done(() =>
    k.setPageRange(pfn, nr_pages, {
      ref: (p) => smt.sub(k.refcount(p), 1),
      s1: (p) => smt.and(k.hypS1Mapped(p), smt.ne(k.refcount(p), 1)),
    }),
  );
}

// ---- model/ffa.ts --------------------------------------------------------------------------

/** __pkvm_host_share_ffa(pfn, nr_pages) */
function host_share_ffa(k: SymPkvm, { pfn, nr_pages }: SymArgs): Outcome {
  const f = new Flow(k);
  f.fail(k.smt.not(k.pfnRangeIsValid(pfn, nr_pages)), "-EINVAL");
  f.check(k.hostCheckPageStateRange(pfn, nr_pages, OWNED));
  return f.done(() => k.setPageRange(pfn, nr_pages, { host: k.smt.int(SHARED_OWNED), ffa: k.smt.T }));
}

/** __pkvm_host_unshare_ffa(pfn, nr_pages): the FF-A proxy's refusal comes first. */
function host_unshare_ffa(k: SymPkvm, { pfn, nr_pages }: SymArgs): Outcome {
  const { smt } = k;
  const f = new Flow(k);
  const notShared = k.L.pageDom.exists(pfn, smt.add(pfn, nr_pages), (p) => smt.not(k.ffaShared(p)));
  f.fail(smt.or(pastLimit(k, pfn, nr_pages), notShared), "-EPERM");
  f.fail(smt.not(k.pfnRangeIsValid(pfn, nr_pages)), "-EINVAL");
  f.check(k.hostCheckPageStateRange(pfn, nr_pages, SHARED_OWNED));
  return f.done(() => k.setPageRange(pfn, nr_pages, { host: smt.int(OWNED), ffa: smt.F }));
}

// ---- model/guest_share.ts ------------------------------------------------------------------

/** __pkvm_host_share_guest(pfn, gfn, nr_pages, vcpu, prot) */
function host_share_guest(k: SymPkvm, { vm, pfn, gfn, nr_pages, prot }: SymArgs): Outcome {
  const { smt } = k;
  const f = new Flow(k);
  f.fail(smt.not(k.loadedVcpuOf(vm, false)), "-EINVAL");
  // prot & ~KVM_PGTABLE_PROT_RWX: a 3-bit prot has no other bits (interface: prot is R, W, X).
  f.fail(smt.not(k.pfnRangeIsValid(pfn, nr_pages)), "-EINVAL");
  f.check(k.guestCheckTransitionSize(pfn, gfn, nr_pages));
  f.check(k.checkRangeAllowedMemory(pfn, nr_pages));
  f.check(k.guestCheckPageStateRange(vm, gfn, nr_pages, NOPAGE));
  const so = (p: N) => smt.eq(k.hostState(p), SHARED_OWNED);
  f.check(
    k.firstFailingPage(pfn, nr_pages, [
      [(p) => smt.and(so(p), smt.eq(k.hostShareGuestCount(p), k.L.maxShareCount)), "-EBUSY"],
      [(p) => smt.not(smt.or(smt.eq(k.hostState(p), OWNED), smt.and(so(p), smt.gt(k.hostShareGuestCount(p), 0)))), "-EPERM"],
    ]),
  );
  return f.done(() => {
    k.setPageRange(pfn, nr_pages, { host: smt.int(SHARED_OWNED), cnt: (p) => smt.add(k.hostShareGuestCount(p), 1) });
    k.setLeaves(vm, (g) => k.inRange(g, gfn, nr_pages), {
      entry: smt.int(GuestEntry.MAPPED),
      state: smt.int(SHARED_BORROWED),
      prot,
      block: smt.gt(nr_pages, 1),
      pfn: (g) => smt.add(pfn, smt.sub(g, gfn)),
    });
  });
}

/** __check_host_shared_guest(): a valid leaf of exactly nr_pages, borrowed from a host SO page. */
function checkHostSharedGuest(k: SymPkvm, f: Flow, vm: number, gfn: N, nr_pages: N): N {
  const { smt } = k;
  f.check(k.guestWalkRange(vm, gfn, 1));
  f.fail(smt.ne(k.guestEntry(vm, gfn), GuestEntry.MAPPED), "-ENOENT");
  f.fail(smt.ne(smt.ite(k.guestBlock(vm, gfn), smt.int(k.L.blockPages), smt.int(1)), nr_pages), "-E2BIG");
  f.fail(smt.ne(k.guestState(vm, gfn), SHARED_BORROWED), "-EPERM");
  const pfn = k.guestPfn(vm, gfn);
  f.check(
    k.firstFailingPage(pfn, nr_pages, [
      [(p) => smt.ne(k.hostState(p), SHARED_OWNED), "-EPERM"],
      [(p) => smt.eq(k.hostShareGuestCount(p), 0), "PANIC"], // WARN_ON(!page->host_share_guest_count)
    ]),
  );
  return pfn;
}

/** __pkvm_host_unshare_guest(gfn, nr_pages, vm) */
function host_unshare_guest(k: SymPkvm, { vm, gfn, nr_pages }: SymArgs): Outcome {
  const { smt } = k;
  const f = new Flow(k);
  f.fail(smt.not(k.npVmByHandle(vm)), "-EINVAL");
  f.check(k.guestCheckTransitionSize(smt.int(0), gfn, nr_pages));
  const pfn = checkHostSharedGuest(k, f, vm, gfn, nr_pages);
  return f.done(() => {
    k.setLeaves(vm, (g) => k.inRange(g, gfn, nr_pages), emptyLeaf(k, GuestEntry.ABSENT));
    k.setPageRange(pfn, nr_pages, {
      cnt: (p) => smt.sub(k.hostShareGuestCount(p), 1),
      host: (p) => smt.ite(smt.eq(k.hostShareGuestCount(p), 1), smt.int(OWNED), k.hostState(p)),
    });
  });
}

/** h lies in g's stage-2 block: one of its blockPages gfns, each named. */
function sameBlock(k: SymPkvm, g: N, h: N): B {
  const start = k.smt.sub(g, k.smt.mod(g, k.L.blockPages));
  return k.smt.or(...k.blockRange(start, k.L.blockPages).map(([x]) => k.smt.eq(h, x)));
}

/** setGuestProt() at the gfns where `where` holds: the attribute walk rewrites the leaf. */
function setGuestProt(k: SymPkvm, vm: number, where: (g: N) => B, prot: (g: N) => P): void {
  k.setLeaves(vm, where, { entry: k.smt.int(GuestEntry.MAPPED), state: (g) => k.guestState(vm, g), prot });
}

/** __pkvm_host_relax_perms_guest(gfn, vcpu, prot): only ever adds permissions. */
function host_relax_perms_guest(k: SymPkvm, { vm, gfn, prot }: SymArgs): Outcome {
  const { smt } = k;
  const f = new Flow(k);
  f.fail(smt.not(k.loadedVcpuOf(vm, false)), "-EINVAL");
  f.check(k.guestWalkRange(vm, gfn, 1));
  f.fail(smt.ne(k.guestEntry(vm, gfn), GuestEntry.MAPPED), "-EAGAIN"); // no KVM_PGTABLE_WALK_IGNORE_EAGAIN
  // forEachLeafGfn(): a block leaf changes as a whole.
  const leaf = (g: N) => smt.or(smt.eq(g, gfn), smt.and(k.guestBlock(vm, gfn), sameBlock(k, g, gfn)));
  return f.done(() => setGuestProt(k, vm, leaf, (g) => smt.protOr(k.guestProt(vm, g), prot)));
}

/** __pkvm_host_wrprotect_guest(gfn, nr_pages, vm): invalid leaves are skipped. */
function host_wrprotect_guest(k: SymPkvm, { vm, gfn, nr_pages }: SymArgs): Outcome {
  const { smt } = k;
  const f = new Flow(k);
  f.fail(smt.not(k.npVmByHandle(vm)), "-EINVAL");
  f.check(k.guestCheckTransitionSize(smt.int(0), gfn, nr_pages));
  f.check(k.guestWalkRange(vm, gfn, nr_pages));
  // The range is gfn alone, or one aligned block. A mapped leaf in it is write-protected as a
  // whole: gfn's block when gfn is a block leaf; the whole range when any of it is.
  const mapped = (g: N) => smt.eq(k.guestEntry(vm, g), GuestEntry.MAPPED);
  const one = (h: N) => smt.and(mapped(gfn), smt.or(smt.eq(h, gfn), smt.and(k.guestBlock(vm, gfn), sameBlock(k, h, gfn))));
  const anyBlock = smt.or(...k.blockRange(gfn, nr_pages).map(([g, inside]) => smt.and(inside, mapped(g), k.guestBlock(vm, g))));
  const block = (h: N) => smt.and(k.inRange(h, gfn, nr_pages), smt.or(mapped(h), anyBlock));
  const touched = (h: N) => smt.ite(smt.eq(nr_pages, 1), one(h), block(h));
  return f.done(() => setGuestProt(k, vm, touched, (g) => smt.protAnd(k.guestProt(vm, g), smt.prot(PROT_RWX & ~PROT_W))));
}

/** __pkvm_host_test_clear_young_guest(gfn, nr_pages, mkold, vm): the access flag is not modelled. */
function host_test_clear_young_guest(k: SymPkvm, { vm, gfn, nr_pages }: SymArgs): Outcome {
  const f = new Flow(k);
  f.fail(k.smt.not(k.npVmByHandle(vm)), "-EINVAL");
  f.check(k.guestCheckTransitionSize(k.smt.int(0), gfn, nr_pages));
  f.fail(k.smt.ne(k.guestWalkRange(vm, gfn, nr_pages), 0), "PANIC"); // WARN_ON(ret && ret != -EAGAIN)
  return f.done();
}

/** __pkvm_host_mkyoung_guest(gfn, vcpu): walk errors are ignored. */
function host_mkyoung_guest(k: SymPkvm, { vm }: SymArgs): Outcome {
  const f = new Flow(k);
  f.fail(k.smt.not(k.loadedVcpuOf(vm, false)), "-EINVAL");
  return f.done();
}

// ---- model/guest_donate.ts -----------------------------------------------------------------

/** __pkvm_host_donate_guest(pfn, gfn, vcpu) */
function host_donate_guest(k: SymPkvm, { vm, pfn, gfn }: SymArgs): Outcome {
  const { smt } = k;
  const f = new Flow(k);
  f.fail(smt.not(k.loadedVcpuOf(vm, true)), "-EINVAL");
  f.check(k.hostCheckPageStateRange(pfn, 1, OWNED));
  f.check(k.guestCheckPageStateRange(vm, gfn, 1, NOPAGE));
  return f.done(() => {
    k.setPage(pfn, { host: smt.int(NOPAGE), ...k.annotation(Owner.GUEST, smt.int(vm), gfn) });
    k.setLeaf(vm, gfn, { entry: smt.int(GuestEntry.MAPPED), state: smt.int(OWNED), prot: smt.prot(PROT_RWX), block: smt.F, pfn });
  });
}

/** The guest's page-granular leaf at gfn, as the guest share / unshare paths look it up. */
function guestPageLeaf(k: SymPkvm, vm: number, gfn: N): N {
  const { smt } = k;
  const e = k.guestEntry(vm, gfn);
  return k.firstOf(
    k.guestWalkRange(vm, gfn, 1),
    k.failIf(smt.eq(e, GuestEntry.POISON), "-EHWPOISON"),
    k.failIf(smt.eq(e, GuestEntry.ABSENT), "-ENOENT"),
    k.failIf(k.guestBlock(vm, gfn), "-E2BIG"),
  );
}

/** __pkvm_guest_share_host(vcpu, gfn): the guest lets the host see one of its pages. */
function guest_share_host(k: SymPkvm, { vm, gfn }: SymArgs): Outcome {
  const { smt } = k;
  const f = new Flow(k);
  f.fail(smt.not(k.loadedVcpuOf(vm, true)), "-EINVAL");
  f.check(guestPageLeaf(k, vm, gfn));
  f.fail(smt.ne(k.guestState(vm, gfn), OWNED), "-EPERM");
  const pfn = k.guestPfn(vm, gfn);
  f.check(k.hostCheckPageStateRange(pfn, 1, NOPAGE));
  return f.done(() => {
    k.setLeaf(vm, gfn, { entry: smt.int(GuestEntry.MAPPED), state: smt.int(SHARED_OWNED) });
    const guestData = smt.eq(k.contents(pfn), Contents.GUEST); // the guest's choice: now host data
    k.setPage(pfn, {
      host: smt.int(SHARED_BORROWED),
      ...k.idmap(PROT_RWX),
      contents: smt.ite(guestData, smt.int(Contents.HOST), k.contents(pfn)),
      contentsVm: smt.ite(guestData, smt.int(0), k.contentsVm(pfn)),
    });
  });
}

/** __pkvm_guest_unshare_host(vcpu, gfn) */
function guest_unshare_host(k: SymPkvm, { vm, gfn }: SymArgs): Outcome {
  const { smt } = k;
  const f = new Flow(k);
  f.fail(smt.not(k.loadedVcpuOf(vm, true)), "-EINVAL");
  f.check(guestPageLeaf(k, vm, gfn));
  f.fail(smt.ne(k.guestState(vm, gfn), SHARED_OWNED), "-EPERM");
  const pfn = k.guestPfn(vm, gfn);
  f.check(k.hostCheckPageStateRange(pfn, 1, SHARED_BORROWED));
  return f.done(() => {
    k.setPage(pfn, { host: smt.int(NOPAGE), ...k.annotation(Owner.GUEST, smt.int(vm), gfn) });
    k.setLeaf(vm, gfn, { entry: smt.int(GuestEntry.MAPPED), state: smt.int(OWNED) });
  });
}

/** A guest page goes back to the host: unmapped from the guest, host OWNED and identity-mapped. */
function returnToHost(k: SymPkvm, vm: number, gfn: N, pfn: N, zero: B, leaf: GuestEntry): void {
  const { smt } = k;
  k.setLeaf(vm, gfn, emptyLeaf(k, leaf));
  k.setPage(pfn, {
    contents: smt.ite(zero, smt.int(Contents.ZERO), k.contents(pfn)),
    contentsVm: smt.ite(zero, smt.int(0), k.contentsVm(pfn)),
    host: smt.int(OWNED),
    ...k.idmap(PROT_RWX),
  });
}

/** Android's __pkvm_guest_relinquish_to_host(vcpu, gfn): the guest gives a page back, scrubbed. */
function guest_relinquish(k: SymPkvm, { vm, gfn }: SymArgs): Outcome {
  const { smt } = k;
  const f = new Flow(k);
  f.fail(smt.not(k.guestVcpu(vm)), "-EINVAL");
  f.succeedIf(smt.not(k.isProtected(vm)));
  f.succeedIf(smt.or(smt.ne(k.guestWalkRange(vm, gfn, 1), 0), smt.ne(k.guestEntry(vm, gfn), GuestEntry.MAPPED)));
  f.fail(k.guestBlock(vm, gfn), "-E2BIG");
  const pfn = k.guestPfn(vm, gfn);
  f.fail(smt.not(k.L.isMemory(pfn)), "-EPERM");
  f.fail(smt.ne(k.guestState(vm, gfn), OWNED), "-EPERM");
  return f.done(() => returnToHost(k, vm, gfn, pfn, smt.T, GuestEntry.ABSENT));
}

/** __pkvm_reclaim_dying_guest_page(vm, gfn): between start and finalize of teardown. */
function host_reclaim_page_guest(k: SymPkvm, { vm, gfn }: SymArgs): Outcome {
  const { smt } = k;
  const f = new Flow(k);
  f.fail(smt.ne(k.vmLife(vm), VmLife.DYING), "-EINVAL");
  f.check(k.guestWalkRange(vm, gfn, 1));
  const e = k.guestEntry(vm, gfn);
  f.succeedIf(smt.eq(e, GuestEntry.POISON)); // already scrubbed by force reclaim
  f.fail(smt.eq(e, GuestEntry.ABSENT), "-ENOENT");
  f.fail(k.guestBlock(vm, gfn), "-E2BIG");
  const st = k.guestState(vm, gfn);
  f.fail(smt.not(smt.or(smt.eq(st, OWNED), smt.eq(st, SHARED_OWNED))), "-EPERM");
  const pfn = k.guestPfn(vm, gfn);
  // A page shared with the host holds nothing secret: only an OWNED one is zeroed.
  return f.done(() => returnToHost(k, vm, gfn, pfn, smt.eq(st, OWNED), GuestEntry.ABSENT));
}

/** The guest leaf of VM slot `vm` (a term: an annotation's) at gfn, as one of the slots' fields. */
function leafOfSlot<T extends B | N>(k: SymPkvm, vm: N, read: (v: number) => T, none: T): T {
  return k.smt.cond(k.s.vm.map((_, v): [B, T] => [k.smt.eq(vm, v), read(v)]), none);
}

/** __pkvm_host_force_reclaim_guest_page(pfn): the host takes a page back from a live guest. */
function host_force_reclaim_page_guest(k: SymPkvm, { pfn }: SymArgs): Outcome {
  const { smt } = k;
  const f = new Flow(k);
  f.fail(smt.not(k.L.isMemory(pfn)), "-EFAULT");
  f.fail(smt.ne(k.hostState(pfn), NOPAGE), "-EAGAIN");
  f.fail(smt.or(smt.ne(k.hostS2(pfn), S2.ANNOTATION), smt.ne(k.annotationOwner(pfn), Owner.GUEST)), "-EPERM");
  const vm = k.annotationVm(pfn);
  const gfn = k.annotationGfn(pfn);
  f.fail(smt.eq(leafOfSlot(k, vm, (v) => k.vmLife(v), smt.int(VmLife.ABSENT)), VmLife.ABSENT), "-EAGAIN");
  const e = leafOfSlot(k, vm, (v) => k.guestEntry(v, gfn), smt.int(GuestEntry.ABSENT));
  f.fail(smt.eq(e, GuestEntry.POISON), "-EHWPOISON");
  f.fail(smt.eq(e, GuestEntry.ABSENT), "-ENOENT");
  f.fail(leafOfSlot(k, vm, (v) => k.guestBlock(v, gfn), smt.F), "-E2BIG");
  f.fail(smt.ne(leafOfSlot(k, vm, (v) => k.guestPfn(v, gfn), smt.int(0)), pfn), "PANIC"); // WARN_ON: another mapping
  f.fail(smt.ne(leafOfSlot(k, vm, (v) => k.guestState(v, gfn), smt.int(NOPAGE)), OWNED), "-EPERM");
  return f.done(() => {
    k.s.vm.forEach((_, v) => k.setLeaves(v, (g) => smt.and(smt.eq(vm, v), smt.eq(g, gfn)), emptyLeaf(k, GuestEntry.POISON)));
    k.setPage(pfn, { ...k.contentsSet(Contents.ZERO), host: smt.int(OWNED), ...k.idmap(PROT_RWX) });
  });
}

// ---- model/lifecycle.ts --------------------------------------------------------------------

/** host_donate_hyp(pfn, 1) as init_vm / init_vcpu call it, and its effect. */
function donateOnePage(k: SymPkvm, a: SymArgs): { ret: N; effect: () => void } {
  const ret = host_donate_hyp(k, { ...a, nr_pages: k.smt.int(1) }).ret;
  return { ret, effect: () => k.doHostDonateHyp(a.pfn, 1) };
}

/** The error path of init_vm / init_vcpu: the donation is handed back, zeroed. */
function rollback(k: SymPkvm, pfn: N, donate: () => void): () => void {
  return () => {
    donate();
    k.returnZeroedToHost((p) => k.smt.eq(p, pfn));
  };
}

/** __pkvm_init_vm(): the donated page holds the VM metadata and the guest stage-2 root. */
function init_vm(k: SymPkvm, a: SymArgs): Outcome {
  const { smt } = k;
  const { vm, pfn } = a;
  const f = new Flow(k);
  f.fail(smt.lt(k.L.vms[vm].vcpus, 1), "-EINVAL");
  const donate = donateOnePage(k, a);
  f.fail(smt.ne(donate.ret, 0), "-ENOMEM");
  f.failWith(smt.ne(k.vmLife(vm), VmLife.ABSENT), "-EINVAL", rollback(k, pfn, donate.effect));
  return f.done(() => {
    donate.effect();
    k.setPage(pfn, k.contentsSet(Contents.HYP));
    k.setVmMetaPfn(vm, pfn);
    k.setVmLife(vm, VmLife.LIVE);
  });
}

/** __pkvm_init_vcpu(): the donation comes before the VM lookup; no dying check. */
function init_vcpu(k: SymPkvm, a: SymArgs): Outcome {
  const { smt } = k;
  const { vm, vcpu, pfn } = a;
  const f = new Flow(k);
  const donate = donateOnePage(k, a);
  f.fail(smt.ne(donate.ret, 0), "-ENOMEM");
  f.failWith(smt.eq(k.vmLife(vm), VmLife.ABSENT), "-ENOENT", rollback(k, pfn, donate.effect));
  const taken = smt.or(smt.ge(vcpu, k.L.vms[vm].vcpus), smt.ge(k.vcpuPfn(vm, vcpu), 0));
  f.failWith(taken, "-EINVAL", rollback(k, pfn, donate.effect));
  return f.done(() => {
    donate.effect();
    k.setPage(pfn, k.contentsSet(Contents.HYP));
    k.setVcpuPfn(vm, vcpu, pfn);
  });
}

/** __pkvm_vcpu_load(): void in the kernel; refusals are "-EINVAL" (interface.md). */
function vcpu_load(k: SymPkvm, { vm, vcpu }: SymArgs): Outcome {
  const { smt } = k;
  const f = new Flow(k);
  f.fail(smt.ge(k.loadedVm(), 0), "-EINVAL");
  f.fail(smt.ne(k.vmLife(vm), VmLife.LIVE), "-EINVAL");
  f.fail(smt.lt(k.vcpuPfn(vm, vcpu), 0), "-EINVAL");
  return f.done(() => k.setLoaded(smt.int(vm), vcpu));
}

/** __pkvm_vcpu_put() */
function vcpu_put(k: SymPkvm): Outcome {
  const f = new Flow(k);
  f.fail(k.smt.lt(k.loadedVm(), 0), "-EINVAL");
  return f.done(() => k.setLoaded(k.smt.int(-1), k.smt.int(-1)));
}

/** __pkvm_start_teardown_vm(): get_pkvm_unref_hyp_vm_locked() makes every refusal -EINVAL. */
function start_teardown_vm(k: SymPkvm, { vm }: SymArgs): Outcome {
  const { smt } = k;
  const f = new Flow(k);
  f.fail(smt.or(smt.ne(k.vmLife(vm), VmLife.LIVE), smt.eq(k.loadedVm(), vm)), "-EINVAL");
  return f.done(() => k.setVmLife(vm, VmLife.DYING));
}

/**
 * __pkvm_finalize_teardown_vm(): frees the guest stage-2 and the VM and vCPU metadata (zeroed),
 * and the slot. Guest pages the host did not reclaim stay where they are: leaked.
 */
function finalize_teardown_vm(k: SymPkvm, { vm }: SymArgs): Outcome {
  const { smt } = k;
  const f = new Flow(k);
  f.fail(smt.or(smt.ne(k.vmLife(vm), VmLife.DYING), smt.eq(k.loadedVm(), vm)), "-EINVAL");
  return f.done(() => {
    const slot = k.L.vms[vm];
    const heldBy = (p: N) =>
      slot.gfnDom.exists(smt.int(0), slot.gfns, (g) => smt.and(smt.eq(k.guestEntry(vm, g), GuestEntry.MAPPED), smt.eq(k.guestPfn(vm, g), p)));
    k.setPages(heldBy, { leaked: smt.T });
    k.setLeaves(vm, (g) => smt.inRange(g, 0, slot.gfns), emptyLeaf(k, GuestEntry.ABSENT));
    const vcpus = k.s.vm[vm].vcpu.map((pfn, i) => ({ pfn, live: smt.and(smt.lt(i, slot.vcpus), smt.ge(pfn, 0)) }));
    const meta = k.vmMetaPfn(vm);
    k.returnZeroedToHost((p) => smt.or(smt.eq(p, meta), ...vcpus.map((c) => smt.and(c.live, smt.eq(p, c.pfn)))));
    vcpus.forEach((_, i) => k.setVcpuPfn(vm, smt.int(i), smt.ite(smt.lt(i, slot.vcpus), smt.int(-1), k.s.vm[vm].vcpu[i])));
    k.setVmMetaPfn(vm, smt.int(0));
    k.setVmLife(vm, VmLife.ABSENT);
  });
}

// ---- model/access.ts -----------------------------------------------------------------------

/** A host access: performed (faulting in an idmap where the entry is empty), or aborted. */
function hostAccess(k: SymPkvm, pfn: N, write: boolean): Outcome {
  const { smt } = k;
  const f = new Flow(k);
  f.fail(smt.ge(pfn, k.L.pages), "-EFAULT");
  f.fail(smt.eq(k.hostS2(pfn), S2.ANNOTATION), "-EFAULT"); // host_stage2_idmap -EPERM: an abort is injected
  return f.done(() => {
    const memory = k.L.isMemory(pfn);
    const prot = smt.ite(memory, smt.prot(PROT_RWX), smt.prot(MMIO_PROT));
    k.setPages((p) => smt.and(smt.eq(p, pfn), smt.eq(k.hostS2(p), S2.EMPTY)), k.idmap(prot));
    if (write) k.setPages((p) => smt.and(smt.eq(p, pfn), memory), k.contentsSet(Contents.HOST));
  });
}

function host_read(k: SymPkvm, { pfn }: SymArgs): Outcome {
  return hostAccess(k, pfn, false);
}

function host_write(k: SymPkvm, { pfn }: SymArgs): Outcome {
  return hostAccess(k, pfn, true);
}

/** A guest access through its stage-2; prot and POISON are honoured. */
function guestAccess(k: SymPkvm, f: Flow, vm: number, gfn: N, need: number): void {
  const { smt } = k;
  f.fail(smt.or(smt.not(k.guestVcpu(vm)), smt.ge(gfn, k.gfns(vm))), "-EFAULT");
  f.fail(smt.ne(k.guestEntry(vm, gfn), GuestEntry.MAPPED), "-EFAULT");
  f.fail(smt.not(smt.same(smt.protAnd(k.guestProt(vm, gfn), smt.prot(need)), smt.prot(need))), "-EFAULT");
}

function guest_read(k: SymPkvm, { vm, gfn }: SymArgs): Outcome {
  const f = new Flow(k);
  guestAccess(k, f, vm, gfn, PROT_R);
  return f.done();
}

/** Data written into a private page is the guest's secret; into a shared one, it is not. */
function guest_write(k: SymPkvm, { vm, gfn }: SymArgs): Outcome {
  const { smt } = k;
  const f = new Flow(k);
  guestAccess(k, f, vm, gfn, PROT_W);
  return f.done(() => {
    const own = smt.eq(k.guestState(vm, gfn), OWNED);
    k.setPage(k.guestPfn(vm, gfn), {
      contents: smt.ite(own, smt.int(Contents.GUEST), smt.int(Contents.HOST)),
      contentsVm: smt.ite(own, smt.int(vm), smt.int(0)),
    });
  });
}

/** Every encoded action of model/actions.ts, by name. */
export const SMT_TRANSITIONS: Readonly<Record<string, SymTransition>> = {
  host_share_hyp,
  host_unshare_hyp,
  host_donate_hyp,
  hyp_donate_host,
  hyp_pin_shared_mem,
  hyp_unpin_shared_mem,
  host_share_ffa,
  host_unshare_ffa,
  host_share_guest,
  host_unshare_guest,
  host_relax_perms_guest,
  host_wrprotect_guest,
  host_test_clear_young_guest,
  host_mkyoung_guest,
  host_donate_guest,
  host_reclaim_page_guest,
  host_force_reclaim_page_guest,
  init_vm,
  init_vcpu,
  vcpu_load,
  vcpu_put,
  start_teardown_vm,
  finalize_teardown_vm,
  guest_share_host,
  guest_unshare_host,
  guest_relinquish,
  host_read,
  host_write,
  guest_read,
  guest_write,
};
