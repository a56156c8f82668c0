// The kernel's helper vocabulary (mem_protect.c): range checks, per-component page-state checks
// and the stage-2 updates that the transitions are written in. They are methods so that a
// seeded fault can be a subclass that overrides one helper (issue: seeded faults) while the
// transitions stay exactly as the kernel has them.

import { EINVAL, EPERM, ERANGE, OK, type Ret } from "./errno.js";
import { Contents, GuestEntry, Owner, PageState, PkvmState, PROT_RWX } from "./state.js";
import { SegKind } from "./world.js";

export class Pkvm extends PkvmState {
  // ---- section 2: range checks ---------------------------------------------------------

  /** pfn_range_is_valid(): below the limit, and `limit - pfn >= nr` (overflow-safe). */
  pfnRangeIsValid(pfn: number, nr: number): boolean {
    return pfn < this.w.pages && this.w.pages - pfn >= nr;
  }

  /**
   * check_range_allowed_memory(): the range [pfn, pfn + nr) lies in one region or one gap
   * (-EINVAL), and that is a region without NOMAP (-EPERM). With nr == 0 the kernel compares
   * pfn with pfn - 1.
   */
  checkRangeAllowedMemory(pfn: number, nr: number): Ret {
    const last = pfn + nr - 1;
    if (last < 0) return EINVAL;
    const seg = this.w.segOf(pfn);
    if (this.w.segOf(last) !== seg) return EINVAL;
    if (this.w.segKind[seg] !== SegKind.MEMORY) return EPERM;
    return OK;
  }

  /** __host_check_page_state_range(): allowed memory first, then every page's host state. */
  hostCheckPageStateRange(pfn: number, nr: number, st: PageState): Ret {
    const ret = this.checkRangeAllowedMemory(pfn, nr);
    if (ret !== OK) return ret;
    for (let p = pfn; p < pfn + nr; p++) if (this.hostState(p) !== st) return EPERM;
    return OK;
  }

  /** __hyp_check_page_state_range(): no memory check of its own. */
  hypCheckPageStateRange(pfn: number, nr: number, st: PageState): Ret {
    for (let p = pfn; p < pfn + nr; p++) if (this.hypState(p) !== st) return EPERM;
    return OK;
  }

  /** __guest_check_transition_size(): one page, or one block with pfn and gfn aligned. */
  guestCheckTransitionSize(pfn: number, gfn: number, nr: number): Ret {
    if (nr === 1) return OK;
    const b = this.w.config.blockPages;
    return nr === b && pfn % b === 0 && gfn % b === 0 ? OK : EINVAL;
  }

  /** The guest stage-2 walk fails with -ERANGE past the guest's address space. */
  guestWalkRange(vm: number, gfn: number, nr: number): Ret {
    const gfns = this.w.config.vms[vm].gfns;
    return gfn < gfns && gfns - gfn >= nr ? OK : ERANGE;
  }

  /** __guest_check_page_state_range(): a poisoned leaf is a state of its own, never `st`. */
  guestCheckPageStateRange(vm: number, gfn: number, nr: number, st: PageState): Ret {
    const ret = this.guestWalkRange(vm, gfn, nr);
    if (ret !== OK) return ret;
    for (let g = gfn; g < gfn + nr; g++) {
      if (this.guestEntry(vm, g) === GuestEntry.POISON || this.guestState(vm, g) !== st) return EPERM;
    }
    return OK;
  }

  // ---- effects: stage-2 owner updates ---------------------------------------------------

  /** host_stage2_set_owner_locked(..., PKVM_ID_HYP): an annotation; host accesses abort. */
  hostStage2SetOwnerHyp(pfn: number, nr: number): void {
    for (let p = pfn; p < pfn + nr; p++) this.setHostS2Annotation(p, Owner.HYP);
  }

  /** The guest annotation records the VM handle and gfn, for force reclaim to decode. */
  hostStage2SetOwnerGuest(pfn: number, vm: number, gfn: number): void {
    this.setHostS2Annotation(pfn, Owner.GUEST, vm, gfn);
  }

  /** host_stage2_idmap_locked(): memory is mapped RWX. */
  hostStage2Idmap(pfn: number, nr: number): void {
    for (let p = pfn; p < pfn + nr; p++) this.setHostS2Idmap(p, PROT_RWX);
  }

  /** host_stage2_set_owner_locked(..., PKVM_ID_HOST): the host owns the page again, idmapped. */
  hostStage2SetOwnerHost(pfn: number): void {
    this.setHostState(pfn, PageState.OWNED);
    this.hostStage2Idmap(pfn, 1);
  }

  setHostStateRange(pfn: number, nr: number, st: PageState): void {
    for (let p = pfn; p < pfn + nr; p++) this.setHostState(p, st);
  }

  setHypStateRange(pfn: number, nr: number, st: PageState): void {
    for (let p = pfn; p < pfn + nr; p++) this.setHypState(p, st);
  }

  /** Scrub a page before it changes hands. */
  zeroPage(pfn: number): void {
    this.setContents(pfn, Contents.ZERO);
  }

  // ---- effects: moving pages between host and hyp ---------------------------------------

  /** The effect of __pkvm_host_donate_hyp, shared by every in-hyp donation. */
  doHostDonateHyp(pfn: number, nr: number): void {
    this.setHostStateRange(pfn, nr, PageState.NOPAGE);
    this.hostStage2SetOwnerHyp(pfn, nr);
    this.setHypStateRange(pfn, nr, PageState.OWNED);
    for (let p = pfn; p < pfn + nr; p++) this.setHypS1Mapped(p, true);
  }

  /** The effect of __pkvm_hyp_donate_host. */
  doHypDonateHost(pfn: number, nr: number): void {
    this.setHypStateRange(pfn, nr, PageState.NOPAGE);
    for (let p = pfn; p < pfn + nr; p++) this.setHypS1Mapped(p, false);
    this.setHostStateRange(pfn, nr, PageState.OWNED);
    this.hostStage2Idmap(pfn, nr);
  }

  /** Hyp metadata and page tables go back to the host scrubbed (invariant 12). */
  returnZeroedToHost(pfn: number): void {
    this.zeroPage(pfn);
    this.doHypDonateHost(pfn, 1);
  }

  // ---- the vCPU memcache (semantics 5b) --------------------------------------------------

  /** kvm_mmu_cache_min_pages(): one page for the model's one level of tables. */
  memcacheBelowMin(vm: number, vcpu: number): boolean {
    return this.w.config.memcache && this.memcacheCount(vm, vcpu) < 1;
  }

  /**
   * kvm_pgtable_stage2_map(): installs the leaves for [gfn, gfn + nr) and, for a page-granular
   * mapping, the leaf table from the vCPU memcache the first time it is needed.
   */
  guestStage2Map(vm: number, vcpu: number, gfn: number, pfn: number, nr: number, st: PageState, prot: number): void {
    const block = nr > 1;
    if (this.w.config.memcache && !block) {
      const t = Math.floor(gfn / this.w.config.blockPages);
      if (this.tablePfn(vm, t) < 0) {
        const table = this.memcachePop(vm, vcpu);
        this.setContents(table, Contents.HYP);
        this.setTablePfn(vm, t, table);
      }
    }
    for (let i = 0; i < nr; i++) this.setGuestMapping(vm, gfn + i, pfn + i, st, prot, block);
  }
}
