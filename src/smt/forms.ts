// The SMT forms of the properties, keyed by property id: each restates a module of properties/
// (its checkState as `state`, its checkStep as `step`) as a formula that holds exactly when the
// concrete check finds nothing. test/smt-forms.test.ts holds each form to its check on random
// reachable states and steps.

import { isAdversarial } from "../../model/actions.js";
import { Contents, GuestEntry, Owner, PageState, S2, VmLife } from "../../model/state.js";
import { SegKind } from "../../model/world.js";
import { enters, Place, PLACES } from "../../properties/page-accounting.js";
import { OK_CODE, retCode } from "./flow.js";
import type { SymPkvm } from "./kernel.js";
import { anyLeaf, atMostOneLeaf, exactlyOneLeaf, mapsPage, ownsPage, present, sbCount } from "./maps.js";
import type { Instance } from "./relation.js";
import { pageEq, stateEq, stateEqExceptPage } from "./state.js";
import type { SymArgs } from "./transitions.js";
import type { B, N } from "./z3.js";

const { NOPAGE, OWNED, SHARED_OWNED: SO, SHARED_BORROWED: SB } = PageState;

export interface StepContext {
  readonly inst: Instance;
  readonly args: SymArgs;
  readonly ret: N;
  readonly pre: SymPkvm;
  readonly post: SymPkvm;
}

export interface SmtForm {
  /** Holds in the state k.s. */
  state?(k: SymPkvm): B;
  /** Holds for the step. */
  step?(c: StepContext): B;
}

// ---- shared predicates (properties/lib/pages.ts) -------------------------------------------

/** Every page below the limit satisfies body. */
function everyPage(k: SymPkvm, body: (p: N) => B): B {
  return k.L.pageDom.forall(k.smt.int(0), k.L.pages, body);
}

function tracked(k: SymPkvm, p: N): B {
  return k.smt.and(k.L.isMemory(p), k.smt.not(k.leaked(p)));
}

function hostAccessible(k: SymPkvm, p: N): B {
  return k.smt.ne(k.hostS2(p), S2.ANNOTATION);
}

function is(k: SymPkvm, x: N, ...values: number[]): B {
  return k.smt.or(...values.map((v) => k.smt.eq(x, v)));
}

function live(k: SymPkvm, v: number): B {
  return k.smt.ne(k.vmLife(v), VmLife.ABSENT);
}

function stepIs(c: StepContext, ...names: string[]): boolean {
  return names.includes(c.inst.action.name);
}

function succeeded(c: StepContext): B {
  return c.pre.smt.eq(c.ret, OK_CODE);
}

// ---- guest-cannot-access-host ----------------------------------------------------------------

/** leafProblem(): the leaf (v, g) reaches only what v owns, or what the host lent it. */
function leafReachesOnlyItsOwn(k: SymPkvm, v: number, g: N): B {
  const { smt } = k;
  const p = k.guestPfn(v, g);
  const st = k.guestState(v, g);
  const host = k.hostState(p);
  const owned = smt.and(
    smt.eq(host, smt.ite(smt.eq(st, OWNED), smt.int(NOPAGE), smt.int(SB))),
    atMostOneLeaf(k, ownsPage(k, p)),
    smt.not(anyLeaf(k, mapsPage(k, p, SB))),
  );
  const borrowed = smt.and(
    smt.not(k.isProtected(v)),
    smt.eq(host, SO),
    smt.gt(k.hostShareGuestCount(p), 0),
    smt.not(k.ffaShared(p)),
    smt.not(anyLeaf(k, ownsPage(k, p))),
  );
  return smt.and(
    k.L.isMemory(p),
    smt.eq(k.hypState(p), NOPAGE),
    smt.cond([[is(k, st, OWNED, SO), owned], [smt.eq(st, SB), borrowed]], smt.F),
  );
}

const guestCannotAccessHost: SmtForm = {
  state: (k) => k.smt.and(...k.L.vms.map((slot, v) =>
    slot.gfnDom.forall(k.smt.int(0), slot.gfns, (g) => k.smt.implies(present(k, v, g), leafReachesOnlyItsOwn(k, v, g))))),
  step(c) {
    const { pre, args } = c;
    const { smt } = pre;
    if (!stepIs(c, "guest_read", "guest_write")) return smt.T;
    const { vm, gfn } = args;
    const mapped = smt.and(live(pre, vm), smt.lt(gfn, pre.gfns(vm)), smt.eq(pre.guestEntry(vm, gfn), GuestEntry.MAPPED));
    return smt.implies(succeeded(c), smt.and(mapped, leafReachesOnlyItsOwn(pre, vm, gfn)));
  },
};

// ---- host-cannot-access-guest ----------------------------------------------------------------

const hostCannotAccessGuest: SmtForm = {
  state: (k) =>
    everyPage(k, (p) =>
      k.smt.implies(hostAccessible(k, p), k.smt.and(k.smt.ne(k.hypState(p), OWNED), k.smt.not(anyLeaf(k, mapsPage(k, p, OWNED)))))),
  step(c) {
    const { pre, args } = c;
    const { smt } = pre;
    if (!stepIs(c, "host_read", "host_write")) return smt.T;
    const p = args.pfn;
    return smt.implies(succeeded(c), smt.not(smt.and(pre.L.isMemory(p), smt.eq(pre.hostState(p), NOPAGE))));
  },
};

// ---- invariants 1-8, 11, 12, 15 ----------------------------------------------------------------

const uniqueOwner: SmtForm = {
  state(k) {
    const { smt } = k;
    return everyPage(k, (p) => {
      const host = is(k, k.hostState(p), OWNED, SO);
      const hyp = is(k, k.hypState(p), OWNED, SO);
      const guest = anyLeaf(k, ownsPage(k, p));
      const one = smt.or(
        smt.and(host, smt.not(hyp), smt.not(guest)),
        smt.and(smt.not(host), hyp, smt.not(guest)),
        smt.and(smt.not(host), smt.not(hyp), guest, atMostOneLeaf(k, ownsPage(k, p))),
      );
      return smt.implies(tracked(k, p), one);
    });
  },
};

/** share-consistency's per-page part (invariants 2-5). */
function shareAgrees(k: SymPkvm, p: N): B {
  const { smt } = k;
  const host = k.hostState(p);
  const hypSb = smt.eq(k.hypState(p), SB);
  const cnt = k.hostShareGuestCount(p);
  const guests = smt.gt(cnt, 0);
  const ffa = k.ffaShared(p);
  return smt.and(
    smt.implies(hypSb, smt.and(smt.eq(host, SO), smt.eq(cnt, 0), smt.not(ffa))),
    smt.eq(cnt, sbCount(k, p)),
    smt.implies(guests, smt.and(smt.eq(host, SO), smt.eq(k.hypState(p), NOPAGE), smt.not(ffa))),
    smt.implies(ffa, smt.eq(host, SO)),
    smt.implies(smt.eq(host, SO), smt.eq(smt.count([hypSb, guests, ffa]), 1)),
    smt.iff(smt.eq(host, SB), exactlyOneLeaf(k, mapsPage(k, p, SO))),
  );
}

const shareConsistency: SmtForm = {
  state(k) {
    const { smt } = k;
    const pages = everyPage(k, (p) => smt.implies(tracked(k, p), shareAgrees(k, p)));
    // Only non-protected VMs borrow, and borrowing is all they do.
    const leaves = k.L.vms.map((slot, v) =>
      slot.gfnDom.forall(smt.int(0), slot.gfns, (g) =>
        smt.implies(
          smt.and(present(k, v, g), tracked(k, k.guestPfn(v, g))),
          smt.iff(smt.eq(k.guestState(v, g), SB), smt.not(k.isProtected(v))),
        ),
      ),
    );
    return smt.and(pages, ...leaves);
  },
};

const nopageMeansForeign: SmtForm = {
  state: (k) =>
    everyPage(k, (p) => {
      const { smt } = k;
      const foreign = smt.or(smt.eq(k.hypState(p), OWNED), anyLeaf(k, mapsPage(k, p, OWNED)));
      return smt.implies(tracked(k, p), smt.iff(smt.eq(k.hostState(p), NOPAGE), foreign));
    }),
};

/** annotationIsTrue(): the owner the annotation on p names owns p outright. */
function annotationIsTrue(k: SymPkvm, p: N): B {
  const { smt } = k;
  const vm = k.annotationVm(p);
  const gfn = k.annotationGfn(p);
  const guest = smt.or(
    ...k.L.vms.map((_, v) =>
      smt.and(smt.eq(vm, v), smt.lt(gfn, k.gfns(v)), mapsPage(k, p, OWNED)(v, gfn)),
    ),
  );
  return smt.ite(smt.eq(k.annotationOwner(p), Owner.HYP), smt.eq(k.hypState(p), OWNED), guest);
}

const hostStage2Consistency: SmtForm = {
  state: (k) =>
    everyPage(k, (p) => {
      const { smt } = k;
      const annotated = smt.eq(k.hostS2(p), S2.ANNOTATION);
      const nopage = smt.eq(k.hostState(p), NOPAGE);
      const memory = smt.implies(
        smt.not(k.leaked(p)),
        smt.and(smt.iff(nopage, annotated), smt.implies(nopage, annotationIsTrue(k, p))),
      );
      return smt.ite(k.L.isMemory(p), memory, smt.not(annotated));
    }),
};

const hypStage1Consistency: SmtForm = {
  state: (k) =>
    everyPage(k, (p) => {
      const { smt } = k;
      const hyp = k.hypState(p);
      const pinned = smt.gt(k.refcount(p), 0);
      return smt.and(
        smt.implies(pinned, smt.eq(hyp, SB)),
        smt.iff(k.hypS1Mapped(p), smt.or(smt.eq(hyp, OWNED), smt.and(smt.eq(hyp, SB), pinned))),
      );
    }),
};

const leakedPagesInert: SmtForm = {
  state: (k) =>
    everyPage(k, (p) => {
      const { smt } = k;
      const inert = smt.and(
        smt.ne(k.hostState(p), OWNED),
        smt.eq(k.hypState(p), NOPAGE),
        smt.not(anyLeaf(k, ownsPage(k, p))),
        smt.implies(smt.eq(k.hostState(p), NOPAGE), smt.eq(k.hostS2(p), S2.ANNOTATION)),
      );
      return smt.implies(k.leaked(p), inert);
    }),
};

/** The hyp pages a present VM is built from (properties/lib/vm-pages.ts): [pfn, in use]. */
function vmPages(k: SymPkvm, v: number): [N, B][] {
  const { smt } = k;
  const vcpus = k.s.vm[v].vcpu.map((pfn, i): [N, B] => [pfn, smt.and(smt.lt(i, k.L.vms[v].vcpus), smt.ge(pfn, 0))]);
  return [[k.vmMetaPfn(v), smt.T], ...vcpus];
}

/** Every page a present VM uses is hyp OWNED, below the limit, and used once. */
export function vmPagesHypOwned(k: SymPkvm): B {
  const { smt } = k;
  const uses = k.L.vms.flatMap((_, v) => vmPages(k, v).map(([p, used]): [N, B] => [p, smt.and(live(k, v), used)]));
  const each = uses.map(([p, used]) => smt.implies(used, smt.and(smt.inRange(p, 0, k.L.pages), smt.eq(k.hypState(p), OWNED))));
  const distinct: B[] = [];
  uses.forEach(([p, a], i) => uses.slice(i + 1).forEach(([q, b]) => distinct.push(smt.implies(smt.and(a, b), smt.ne(p, q)))));
  return smt.and(...each, ...distinct);
}

const noReuseWhileMapped: SmtForm = {
  state(k) {
    const { smt } = k;
    const pages = everyPage(k, (p) => {
      const mapped = anyLeaf(k, mapsPage(k, p));
      const guestOwned = anyLeaf(k, mapsPage(k, p, OWNED));
      const annotated = smt.eq(k.hostS2(p), S2.ANNOTATION);
      return smt.implies(
        tracked(k, p),
        smt.and(
          smt.implies(smt.eq(k.hostState(p), OWNED), smt.and(smt.not(mapped), smt.not(k.hypS1Mapped(p)))),
          smt.implies(smt.eq(k.hypState(p), OWNED), smt.and(smt.not(mapped), annotated)),
          smt.implies(guestOwned, smt.and(atMostOneLeaf(k, mapsPage(k, p)), annotated, smt.not(k.hypS1Mapped(p)))),
        ),
      );
    });
    return smt.and(pages, vmPagesHypOwned(k));
  },
};

const guestSharedPageExclusive: SmtForm = {
  state(k) {
    const { smt } = k;
    const slots = k.L.vms.map((slot, v) =>
      slot.gfnDom.forall(smt.int(0), slot.gfns, (g) => {
        const p = k.guestPfn(v, g);
        const shared = smt.and(k.isProtected(v), live(k, v), smt.eq(k.guestState(v, g), SO));
        return smt.implies(shared, smt.and(smt.lt(p, k.L.pages), atMostOneLeaf(k, mapsPage(k, p))));
      }),
    );
    return smt.and(...slots);
  },
};

const nomapStaysHost: SmtForm = {
  state: (k) =>
    everyPage(k, (p) => {
      const { smt } = k;
      const nomap = smt.eq(k.L.segKind(k.L.segOf(p)), SegKind.NOMAP);
      const host = smt.and(
        smt.eq(k.hostState(p), OWNED),
        smt.eq(k.hypState(p), NOPAGE),
        smt.not(k.ffaShared(p)),
        smt.not(anyLeaf(k, mapsPage(k, p))),
      );
      return smt.implies(nomap, host);
    }),
};

const secret = (k: SymPkvm, p: N): B => is(k, k.contents(p), Contents.GUEST, Contents.HYP);

const scrubBeforeReturn: SmtForm = {
  state: (k) => everyPage(k, (p) => k.smt.implies(secret(k, p), k.smt.not(hostAccessible(k, p)))),
  step(c) {
    const { pre, args } = c;
    const { smt } = pre;
    if (!stepIs(c, "host_read")) return smt.T;
    return smt.implies(smt.and(succeeded(c), smt.lt(args.pfn, pre.L.pages)), smt.not(secret(pre, args.pfn)));
  },
};

// ---- invariants 13, 14, 16 ---------------------------------------------------------------------

const failedCallNoOp: SmtForm = {
  step(c) {
    const { pre, post, args } = c;
    const { smt, L } = pre;
    const p = args.pfn;
    const unchanged = stateEq(L, pre.s, post.s);
    if (!stepIs(c, "init_vm", "init_vcpu")) return smt.implies(smt.not(succeeded(c)), unchanged);
    // The donated page may come back, but only as handedBackProblem() allows.
    const handedBack = smt.and(
      smt.eq(pre.hostState(p), OWNED),
      smt.eq(post.hostState(p), OWNED),
      smt.eq(post.hypState(p), NOPAGE),
      smt.not(post.hypS1Mapped(p)),
      smt.eq(post.contents(p), Contents.ZERO),
      hostAccessible(post, p),
    );
    const hands = smt.and(stateEqExceptPage(L, pre.s, post.s, p), smt.or(pageEq(L, pre.s, post.s, p), handedBack));
    return smt.implies(smt.not(succeeded(c)), smt.ite(smt.lt(p, L.pages), hands, unchanged));
  },
};

const noHypPanic: SmtForm = {
  step: (c) => (isAdversarial(c.inst.action) ? c.pre.smt.ne(c.ret, retCode("PANIC")) : c.pre.smt.T),
};

/** What a successful step needs of the state before it (properties/lifecycle.ts NEEDS). */
function lifecycleNeeds(c: StepContext): B | undefined {
  const { pre, args } = c;
  const { smt } = pre;
  const { vm } = args;
  const life = (l: VmLife) => smt.eq(pre.vmLife(vm), l);
  const isPresent = smt.ne(pre.vmLife(vm), VmLife.ABSENT);
  const unloaded = smt.ne(pre.loadedVm(), vm);
  const loaded = smt.eq(pre.loadedVm(), vm);
  const ofType = (prot: boolean) => (prot ? pre.isProtected(vm) : smt.not(pre.isProtected(vm)));
  const vcpuReady = (init: boolean) => smt.iff(smt.ge(pre.vcpuPfn(vm, args.vcpu), 0), smt.bool(init));
  const needs: Record<string, () => B> = {
    init_vm: () => life(VmLife.ABSENT),
    init_vcpu: () => smt.and(isPresent, vcpuReady(false)),
    vcpu_load: () => smt.and(smt.lt(pre.loadedVm(), 0), life(VmLife.LIVE), vcpuReady(true)),
    start_teardown_vm: () => smt.and(life(VmLife.LIVE), unloaded),
    finalize_teardown_vm: () => smt.and(life(VmLife.DYING), unloaded),
    host_share_guest: () => smt.and(loaded, ofType(false)),
    host_relax_perms_guest: () => smt.and(loaded, ofType(false)),
    host_mkyoung_guest: () => smt.and(loaded, ofType(false)),
    host_donate_guest: () => smt.and(loaded, ofType(true)),
    host_unshare_guest: () => smt.and(isPresent, ofType(false)),
    host_wrprotect_guest: () => smt.and(isPresent, ofType(false)),
    host_test_clear_young_guest: () => smt.and(isPresent, ofType(false)),
    host_reclaim_page_guest: () => life(VmLife.DYING),
    guest_share_host: () => smt.and(loaded, ofType(true)),
    guest_unshare_host: () => smt.and(loaded, ofType(true)),
    guest_relinquish: () => loaded,
    guest_read: () => loaded,
    guest_write: () => loaded,
  };
  return needs[c.inst.action.name]?.();
}

/** finalizeProblem(): every page the VM held is host OWNED again, or leaked. */
function finalizeReturnsAll(c: StepContext): B {
  const { pre, post, args } = c;
  const { smt } = pre;
  const vm = args.vm;
  const returned = (p: N) => smt.or(smt.ge(p, pre.L.pages), smt.eq(post.hostState(p), OWNED), post.leaked(p));
  const hyp = vmPages(pre, vm).map(([p, used]) => smt.implies(used, returned(p)));
  const slot = pre.L.vms[vm];
  const leaves = slot.gfnDom.forall(smt.int(0), slot.gfns, (g) =>
    smt.implies(smt.eq(pre.guestEntry(vm, g), GuestEntry.MAPPED), returned(pre.guestPfn(vm, g))),
  );
  return smt.and(...hyp, leaves);
}

/** lifecycle's state form: an absent slot holds nothing; the loaded vCPU is a live VM's. */
function lifecycleState(k: SymPkvm): B {
  const { smt } = k;
  const slots = k.L.vms.map((slot, v) => {
    const empty = smt.and(
      slot.gfnDom.forall(smt.int(0), slot.gfns, (g) => smt.eq(k.guestEntry(v, g), GuestEntry.ABSENT)),
      ...k.s.vm[v].vcpu.map((pfn, i) => smt.implies(smt.lt(i, slot.vcpus), smt.lt(pfn, 0))),
    );
    return smt.implies(smt.eq(k.vmLife(v), VmLife.ABSENT), empty);
  });
  const lv = k.loadedVm();
  const loaded = smt.or(
    ...k.L.vms.map((slot, v) =>
      smt.and(smt.eq(lv, v), smt.eq(k.vmLife(v), VmLife.LIVE), smt.lt(k.loadedVcpu(), slot.vcpus), smt.ge(k.vcpuPfn(v, k.loadedVcpu()), 0)),
    ),
  );
  return smt.and(...slots, smt.implies(smt.ge(lv, 0), loaded));
}

const lifecycle: SmtForm = {
  state: lifecycleState,
  step(c) {
    const { smt } = c.pre;
    const need = lifecycleNeeds(c);
    if (!need) return smt.T;
    const after = stepIs(c, "finalize_teardown_vm") ? finalizeReturnsAll(c) : smt.T;
    return smt.implies(succeeded(c), smt.and(need, after));
  },
};

// ---- the accounting properties (issue 18) -------------------------------------------------

const shareCountBounded: SmtForm = {
  state: (k) =>
    everyPage(k, (p) => {
      const { smt } = k;
      const cnt = k.hostShareGuestCount(p);
      return smt.and(smt.le(cnt, k.L.maxShareCount), smt.implies(tracked(k, p), smt.eq(cnt, sbCount(k, p))));
    }),
};

/** guest-blocks-aligned's blockProblem() finds nothing for the block leaf (v, g). */
function wholeAlignedBlock(k: SymPkvm, v: number, g: N): B {
  const { smt } = k;
  const b = k.L.blockPages;
  const start = smt.sub(g, smt.mod(g, b));
  const base = smt.sub(k.guestPfn(v, g), smt.sub(g, start));
  const member = (h: N) =>
    smt.and(
      smt.eq(k.guestEntry(v, h), GuestEntry.MAPPED),
      k.guestBlock(v, h),
      smt.eq(k.guestPfn(v, h), smt.add(base, smt.sub(h, start))),
      smt.eq(k.guestState(v, h), k.guestState(v, g)),
      smt.same(k.guestProt(v, h), k.guestProt(v, g)),
    );
  return smt.and(smt.eq(smt.mod(base, b), 0), smt.le(smt.add(start, b), k.gfns(v)), ...k.blockRange(start, b).map(([h]) => member(h)));
}

const guestBlocksAligned: SmtForm = {
  state: (k) =>
    k.smt.and(
      ...k.L.vms.map((slot, v) =>
        slot.gfnDom.forall(k.smt.int(0), slot.gfns, (g) => k.smt.implies(k.smt.and(present(k, v, g), k.guestBlock(v, g)), wholeAlignedBlock(k, v, g))),
      ),
    ),
};

/** How many uses of present VMs page p has (the encoding has no memcache, so no table pages). */
function vmUses(k: SymPkvm, p: N): N {
  const { smt } = k;
  const uses = k.L.vms.flatMap((_, v) => vmPages(k, v).map(([q, used]) => smt.and(live(k, v), used, smt.eq(q, p))));
  return smt.count(uses);
}

/** page-accounting's places(): what p is in, and how many places that is. */
function pagePlace(k: SymPkvm, p: N): { n: N; place: N; uses: N } {
  const { smt } = k;
  const leaked = k.leaked(p);
  const host = smt.and(smt.not(leaked), is(k, k.hostState(p), OWNED, SO));
  const hyp = smt.eq(k.hypState(p), OWNED);
  const uses = vmUses(k, p);
  const guest = anyLeaf(k, ownsPage(k, p));
  const n = smt.add(smt.count([leaked, host, smt.and(hyp, smt.eq(uses, 0)), guest]), uses);
  const place = smt.cond(
    [
      [smt.not(k.L.isMemory(p)), smt.int(Place.NONE)],
      [leaked, smt.int(Place.LEAKED)],
      [smt.gt(uses, 0), smt.int(Place.VM)],
      [hyp, smt.int(Place.HYP)],
      [guest, smt.int(Place.GUEST)],
      [host, smt.int(Place.HOST)],
    ],
    smt.int(Place.NONE),
  );
  return { n, place, uses };
}

const pageAccounting: SmtForm = {
  state: (k) =>
    everyPage(k, (p) => {
      const { smt } = k;
      const { n, uses } = pagePlace(k, p);
      const one = smt.and(smt.eq(n, 1), atMostOneLeaf(k, ownsPage(k, p)), smt.implies(smt.gt(uses, 0), smt.eq(k.hypState(p), OWNED)));
      return smt.implies(k.L.isMemory(p), one);
    }),
  step(c) {
    const { pre, post, inst } = c;
    const { smt } = pre;
    const allowed = PLACES.filter((place) => enters(inst.action, place));
    return everyPage(pre, (p) => {
      const after = pagePlace(post, p).place;
      return smt.implies(smt.ne(pagePlace(pre, p).place, after), smt.or(...allowed.map((place) => smt.eq(after, place))));
    });
  },
};

export const SMT_FORMS: Readonly<Record<string, SmtForm>> = {
  "failed-call-no-op": failedCallNoOp,
  "guest-cannot-access-host": guestCannotAccessHost,
  "guest-blocks-aligned": guestBlocksAligned,
  "guest-shared-page-exclusive": guestSharedPageExclusive,
  "host-cannot-access-guest": hostCannotAccessGuest,
  "host-stage2-consistency": hostStage2Consistency,
  "hyp-stage1-consistency": hypStage1Consistency,
  "leaked-pages-inert": leakedPagesInert,
  lifecycle,
  "no-hyp-panic": noHypPanic,
  "no-reuse-while-mapped": noReuseWhileMapped,
  "nomap-stays-host": nomapStaysHost,
  "nopage-means-foreign": nopageMeansForeign,
  "page-accounting": pageAccounting,
  "scrub-before-return": scrubBeforeReturn,
  "share-consistency": shareConsistency,
  "share-count-bounded": shareCountBounded,
  "unique-owner": uniqueOwner,
};
