// model/pkvm.ts, model/handlers.ts and the accessors of model/state.ts over symbolic states: the
// same helper vocabulary, so that src/smt/transitions.ts reads line by line like model/*.ts.
// Checks return errno terms (OK_CODE when they pass); effects replace `s` with a new state.
// A host range "for p in [pfn, pfn + nr)" (nr unbounded) is a quantifier (unbounded encoding)
// or a conjunction (finite) over the pages of the range below the limit: every loop of the
// model that reads page state runs after a check that keeps it there. A guest range, which the
// size check limits to one page or one block, is written out index by index (blockRange).

import type { Ret } from "../../model/errno.js";
import { Contents, GuestEntry, Owner, PageState, PROT_RWX, S2, VmLife } from "../../model/state.js";
import { SegKind } from "../../model/world.js";
import { OK_CODE, retCode } from "./flow.js";
import type { Layout } from "./layout.js";
import { updateLeaves, updatePages, updateVm, type LeafUpdate, type PageUpdate, type SymState } from "./state.js";
import type { B, N, P, Smt } from "./z3.js";

export class SymPkvm {
  readonly smt: Smt;

  constructor(readonly L: Layout, public s: SymState) {
    this.smt = L.smt;
  }

  err(r: Ret): N {
    return this.smt.int(retCode(r));
  }

  /** An errno term: r where cond holds, OK elsewhere. */
  failIf(cond: B, r: Ret): N {
    return this.smt.ite(cond, this.err(r), this.smt.int(OK_CODE));
  }

  /** The first failing errno of a sequence of checks. */
  firstOf(...checks: N[]): N {
    const { smt } = this;
    let r = smt.int(OK_CODE);
    for (let i = checks.length - 1; i >= 0; i--) r = smt.ite(smt.eq(checks[i], OK_CODE), r, checks[i]);
    return r;
  }

  /** [pfn, pfn + nr) */
  inRange(i: N, start: N, nr: N | number): B {
    return this.smt.inRange(i, start, this.smt.add(start, nr));
  }

  // ---- model/state.ts accessors ------------------------------------------------------------

  hostState(p: N): N {
    return this.s.page.host.at(p);
  }
  hypState(p: N): N {
    return this.s.page.hyp.at(p);
  }
  hostShareGuestCount(p: N): N {
    return this.s.page.cnt.at(p);
  }
  refcount(p: N): N {
    return this.s.page.ref.at(p);
  }
  ffaShared(p: N): B {
    return this.s.page.ffa.at(p);
  }
  leaked(p: N): B {
    return this.s.page.leaked.at(p);
  }
  hypS1Mapped(p: N): B {
    return this.s.page.s1.at(p);
  }
  hostS2(p: N): N {
    return this.s.page.s2.at(p);
  }
  annotationOwner(p: N): N {
    return this.s.page.annotOwner.at(p);
  }
  annotationVm(p: N): N {
    return this.s.page.annotVm.at(p);
  }
  annotationGfn(p: N): N {
    return this.s.page.annotGfn.at(p);
  }
  contents(p: N): N {
    return this.s.page.contents.at(p);
  }
  contentsVm(p: N): N {
    return this.s.page.contentsVm.at(p);
  }
  loadedVm(): N {
    return this.s.loadedVm;
  }
  loadedVcpu(): N {
    return this.s.loadedVcpu;
  }
  vmLife(v: number): N {
    return this.s.vm[v].life;
  }
  vmMetaPfn(v: number): N {
    return this.s.vm[v].meta;
  }
  /** The vCPU's metadata pfn, or -1 (also for an index past the VM's vCPU slots). */
  vcpuPfn(v: number, i: N): N {
    const { smt } = this;
    return smt.cond(this.s.vm[v].vcpu.map((pfn, j): [B, N] => [smt.eq(i, j), pfn]), smt.int(-1));
  }
  guestEntry(v: number, g: N): N {
    return this.s.vm[v].leaf.entry.at(g);
  }
  /** NOPAGE for an absent or poisoned leaf. */
  guestState(v: number, g: N): N {
    const { smt } = this;
    return smt.ite(smt.eq(this.guestEntry(v, g), GuestEntry.MAPPED), this.s.vm[v].leaf.state.at(g), smt.int(PageState.NOPAGE));
  }
  guestProt(v: number, g: N): P {
    return this.s.vm[v].leaf.prot.at(g);
  }
  guestBlock(v: number, g: N): B {
    return this.s.vm[v].leaf.block.at(g);
  }
  guestPfn(v: number, g: N): N {
    return this.s.vm[v].leaf.pfn.at(g);
  }
  isProtected(v: number): B {
    return this.L.vms[v].protected;
  }
  gfns(v: number): N {
    return this.L.vms[v].gfns;
  }

  // ---- effects -----------------------------------------------------------------------------

  setPages(where: (p: N) => B, set: PageUpdate): void {
    this.s = updatePages(this.L, this.s, where, set);
  }
  setPage(pfn: N, set: PageUpdate): void {
    this.setPages((p) => this.smt.eq(p, pfn), set);
  }
  setPageRange(pfn: N, nr: N | number, set: PageUpdate): void {
    this.setPages((p) => this.inRange(p, pfn, nr), set);
  }
  setLeaves(v: number, where: (g: N) => B, set: LeafUpdate): void {
    this.s = updateLeaves(this.L, this.s, v, where, set);
  }
  setLeaf(v: number, gfn: N, set: LeafUpdate): void {
    this.setLeaves(v, (g) => this.smt.eq(g, gfn), set);
  }
  setVmLife(v: number, l: VmLife): void {
    this.s = updateVm(this.s, v, { life: this.smt.int(l) });
  }
  setVmMetaPfn(v: number, pfn: N): void {
    this.s = updateVm(this.s, v, { meta: pfn });
  }
  setVcpuPfn(v: number, i: N, pfn: N): void {
    const { smt } = this;
    this.s = updateVm(this.s, v, { vcpu: this.s.vm[v].vcpu.map((old, j) => smt.ite(smt.eq(i, j), pfn, old)) });
  }
  setLoaded(vm: N, vcpu: N): void {
    this.s = { ...this.s, loadedVm: vm, loadedVcpu: vcpu };
  }

  // ---- section 2: range checks (model/pkvm.ts) ----------------------------------------------

  /** pfn_range_is_valid(): below the limit, and `limit - pfn >= nr` (overflow-safe). */
  pfnRangeIsValid(pfn: N, nr: N): B {
    const { smt } = this;
    return smt.and(smt.lt(pfn, this.L.pages), smt.ge(smt.sub(this.L.pages, pfn), nr));
  }

  /** check_range_allowed_memory(): one region or gap (-EINVAL), a region without NOMAP (-EPERM). */
  checkRangeAllowedMemory(pfn: N, nr: N | number): N {
    const { smt, L } = this;
    const last = smt.sub(smt.add(pfn, nr), 1);
    const seg = L.segOf(pfn);
    return smt.cond(
      [
        [smt.lt(last, 0), this.err("-EINVAL")],
        [smt.ne(L.segOf(last), seg), this.err("-EINVAL")],
        [smt.ne(L.segKind(seg), SegKind.MEMORY), this.err("-EPERM")],
      ],
      smt.int(OK_CODE),
    );
  }

  /** __host_check_page_state_range(): allowed memory first, then every page's host state. */
  hostCheckPageStateRange(pfn: N, nr: N | number, st: PageState): N {
    const { smt } = this;
    const all = this.L.pageDom.forall(pfn, smt.add(pfn, nr), (p) => smt.eq(this.hostState(p), st));
    return this.firstOf(this.checkRangeAllowedMemory(pfn, nr), this.failIf(smt.not(all), "-EPERM"));
  }

  /** __hyp_check_page_state_range(): no memory check of its own. */
  hypCheckPageStateRange(pfn: N, nr: N | number, st: PageState): N {
    const { smt } = this;
    const all = this.L.pageDom.forall(pfn, smt.add(pfn, nr), (p) => smt.eq(this.hypState(p), st));
    return this.failIf(smt.not(all), "-EPERM");
  }

  /** __guest_check_transition_size(): one page, or one block with pfn and gfn aligned. */
  guestCheckTransitionSize(pfn: N, gfn: N, nr: N): N {
    const { smt } = this;
    const b = this.L.blockPages;
    const block = smt.and(smt.eq(nr, b), smt.eq(smt.mod(pfn, b), 0), smt.eq(smt.mod(gfn, b), 0));
    return this.failIf(smt.not(smt.or(smt.eq(nr, 1), block)), "-EINVAL");
  }

  /** The guest stage-2 walk fails with -ERANGE past the guest's address space. */
  guestWalkRange(vm: number, gfn: N, nr: N | number): N {
    const { smt } = this;
    const gfns = this.gfns(vm);
    return this.failIf(smt.not(smt.and(smt.lt(gfn, gfns), smt.ge(smt.sub(gfns, gfn), nr))), "-ERANGE");
  }

  /**
   * The indices start, start + 1, ... of a range of nr <= blockPages (a guest transition after
   * its size check), each with the condition that it lies in the range: written out rather than
   * quantified, so that every page or gfn of a block is a ground term for the solver.
   */
  blockRange(start: N, nr: N | number): [at: N, inside: B][] {
    const { smt } = this;
    return Array.from({ length: this.L.blockPages }, (_, i) => [smt.add(start, i), smt.lt(i, nr)]);
  }

  /** __guest_check_page_state_range() (nr <= blockPages): a poisoned leaf is never `st`. */
  guestCheckPageStateRange(vm: number, gfn: N, nr: N | number, st: PageState): N {
    const { smt } = this;
    const all = this.blockRange(gfn, nr).map(([g, inside]) =>
      smt.implies(inside, smt.and(smt.ne(this.guestEntry(vm, g), GuestEntry.POISON), smt.eq(this.guestState(vm, g), st))),
    );
    return this.firstOf(this.guestWalkRange(vm, gfn, nr), this.failIf(smt.not(smt.and(...all)), "-EPERM"));
  }

  /**
   * A loop over [pfn, pfn + nr), nr <= blockPages, that returns at the first page failing one
   * of `checks` (tried in order on each page): that check's errno.
   */
  firstFailingPage(pfn: N, nr: N | number, checks: [fails: (p: N) => B, r: Ret][]): N {
    const { smt } = this;
    const pageErr = (p: N): N => smt.cond(checks.map(([fails, r]): [B, N] => [fails(p), this.err(r)]), smt.int(OK_CODE));
    const cases = this.blockRange(pfn, nr).map(([p, inside]): [B, N] => {
      const r = pageErr(p);
      return [smt.and(inside, smt.ne(r, OK_CODE)), r];
    });
    return smt.cond(cases, smt.int(OK_CODE));
  }

  // ---- effects (model/pkvm.ts) ---------------------------------------------------------------

  /** host_stage2_set_owner_locked(..., PKVM_ID_HYP): an annotation; host accesses abort. */
  hostStage2SetOwnerHyp(pfn: N, nr: N | number): void {
    this.setPageRange(pfn, nr, this.annotation(Owner.HYP, this.smt.int(0), this.smt.int(0)));
  }

  hostStage2SetOwnerGuest(pfn: N, vm: number, gfn: N): void {
    this.setPage(pfn, this.annotation(Owner.GUEST, this.smt.int(vm), gfn));
  }

  /** host_stage2_idmap_locked(): memory is mapped RWX. */
  hostStage2Idmap(pfn: N, nr: N | number): void {
    this.setPageRange(pfn, nr, this.idmap(PROT_RWX));
  }

  annotation(owner: Owner, vm: N, gfn: N): PageUpdate {
    const { smt } = this;
    return { s2: smt.int(S2.ANNOTATION), s2prot: smt.prot(0), annotOwner: smt.int(owner), annotVm: vm, annotGfn: gfn };
  }

  idmap(prot: number | P): PageUpdate {
    const { smt } = this;
    const zero = smt.int(0);
    const s2prot = typeof prot === "number" ? smt.prot(prot) : prot;
    return { s2: smt.int(S2.IDMAP), s2prot, annotOwner: zero, annotVm: zero, annotGfn: zero };
  }

  contentsSet(c: Contents, vm: N = this.smt.int(0)): PageUpdate {
    return { contents: this.smt.int(c), contentsVm: c === Contents.GUEST ? vm : this.smt.int(0) };
  }

  /** The effect of __pkvm_host_donate_hyp, shared by every in-hyp donation. */
  doHostDonateHyp(pfn: N, nr: N | number): void {
    const { smt } = this;
    this.setPageRange(pfn, nr, {
      host: smt.int(PageState.NOPAGE),
      ...this.annotation(Owner.HYP, smt.int(0), smt.int(0)),
      hyp: smt.int(PageState.OWNED),
      s1: smt.T,
    });
  }

  /** The effect of __pkvm_hyp_donate_host. */
  doHypDonateHost(pfn: N, nr: N | number): void {
    const { smt } = this;
    this.setPageRange(pfn, nr, { hyp: smt.int(PageState.NOPAGE), s1: smt.F, host: smt.int(PageState.OWNED), ...this.idmap(PROT_RWX) });
  }

  /** Hyp metadata and page tables go back to the host scrubbed (invariant 12). */
  returnZeroedToHost(where: (p: N) => B): void {
    const { smt } = this;
    this.setPages(where, {
      ...this.contentsSet(Contents.ZERO),
      hyp: smt.int(PageState.NOPAGE),
      s1: smt.F,
      host: smt.int(PageState.OWNED),
      ...this.idmap(PROT_RWX),
    });
  }

  // ---- model/handlers.ts -------------------------------------------------------------------

  /** The loaded vCPU belongs to `vm`, whose type is `protectedVm`. */
  loadedVcpuOf(vm: number, protectedVm: boolean): B {
    const { smt } = this;
    const type = protectedVm ? this.isProtected(vm) : smt.not(this.isProtected(vm));
    return smt.and(smt.eq(this.loadedVm(), vm), type);
  }

  /** A vCPU of `vm` is loaded (the guest hypercalls come from it). */
  guestVcpu(vm: number): B {
    return this.smt.eq(this.loadedVm(), vm);
  }

  /** get_np_pkvm_hyp_vm(handle): present and non-protected; dying VMs are not refused. */
  npVmByHandle(vm: number): B {
    const { smt } = this;
    return smt.and(smt.ne(this.vmLife(vm), VmLife.ABSENT), smt.not(this.isProtected(vm)));
  }
}
