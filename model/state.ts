// The pKVM state as one flat Uint32Array (compact, cloned with one memcpy, hashed as is), and
// the accessors that the transitions, the properties and the engines use instead of raw words.
// Accessors are named after the kernel's fields: hyp_vmemmap's host/hyp state,
// host_share_guest_count and refcount; the host stage-2 entry; the guest stage-2 leaves.
//
// Every bit not named below is zero, so equal states have equal words: the array itself is
// the canonical encoding.

import { PAGE_WORDS, type World } from "./world.js";

/** enum pkvm_page_state, per component. NOPAGE is 0 so that a fresh array means "no access". */
export enum PageState {
  NOPAGE = 0,
  OWNED = 1,
  SHARED_OWNED = 2,
  SHARED_BORROWED = 3,
}

/** Host stage-2 entry of an identity-mapped (IPA == PA) page. */
export enum S2 {
  EMPTY = 0, // not yet faulted in: the host may access the page
  IDMAP = 1,
  ANNOTATION = 2, // invalid entry naming the page's owner: host accesses abort
}

export enum Owner {
  HYP = 0,
  GUEST = 1,
}

/** What a page holds, enough to check scrubbing: host-visible data, hyp data, a guest's secret. */
export enum Contents {
  ZERO = 0,
  HOST = 1, // host data, or data a guest chose to share with the host
  HYP = 2, // hyp metadata or page tables
  GUEST = 3, // data the guest `contentsVm` wrote while the page was private to it
}

export enum GuestEntry {
  ABSENT = 0,
  POISON = 1,
  MAPPED = 2,
}

export enum VmLife {
  ABSENT = 0,
  LIVE = 1,
  DYING = 2,
}

export const PROT_R = 1;
export const PROT_W = 2;
export const PROT_X = 4;
export const PROT_RWX = 7;
export const REFCOUNT_MAX = 0xffff; // struct hyp_page's u16 refcount

// Page flags word.
const HOST = 0; // 2 bits
const HYP = 2; // 2 bits
const S1 = 1 << 4;
const FFA = 1 << 5;
const LEAKED = 1 << 6;
const S2_KIND = 7; // 2 bits
const S2_PROT = 9; // 3 bits
const ANNOT_OWNER = 1 << 12;
const CONTENTS = 13; // 2 bits
const CONTENTS_VM = 16; // 8 bits
// Page words after the flags.
const CNT = 1;
const REF = 2;
const ANNOT = 3; // vm | gfn << 8

// Guest stage-2 entry word: kind (2) | state (2) | prot (3) | block (1) | pfn (24).
const G_STATE = 2;
const G_PROT = 4;
const G_BLOCK = 1 << 7;
const G_PFN = 256;

/** The pfn a guest leaf word maps, or -1 when it maps none (absent, poisoned). */
export function leafWordPfn(word: number): number {
  return (word & 3) === GuestEntry.MAPPED ? Math.floor(word / G_PFN) : -1;
}

export class PkvmState {
  /** The state being read or changed; engines point it at whichever buffer they work on. */
  s: Uint32Array;

  /**
   * While set, the index of every word any state view writes lands here, `logged` counting them
   * (past the end only counted): the random engine sets it around one step and reads what the
   * step changed from it instead of comparing whole states. Static, not per view: a transition
   * may write through a view of its own (the seeded faults' kernel subclasses do).
   */
  static writeLog: Int32Array | null = null;
  static logged = 0;

  constructor(readonly w: World, s?: Uint32Array) {
    this.s = s ?? new Uint32Array(w.words);
  }

  /** Every write to the state goes through here. */
  private put(i: number, v: number): void {
    this.s[i] = v;
    const log = PkvmState.writeLog;
    if (log !== null) {
      if (PkvmState.logged < log.length) log[PkvmState.logged] = i;
      PkvmState.logged++;
    }
  }

  // ---- per page: hyp_vmemmap -------------------------------------------------------------

  private field(p: number, shift: number, bits: number): number {
    return (this.s[p * PAGE_WORDS + 1] >>> shift) & ((1 << bits) - 1);
  }

  private setField(p: number, shift: number, bits: number, v: number): void {
    const i = p * PAGE_WORDS + 1;
    const mask = ((1 << bits) - 1) << shift;
    this.put(i, (this.s[i] & ~mask) | (v << shift));
  }

  private flag(p: number, bit: number): boolean {
    return (this.s[p * PAGE_WORDS + 1] & bit) !== 0;
  }

  private setFlag(p: number, bit: number, on: boolean): void {
    const i = p * PAGE_WORDS + 1;
    this.put(i, on ? this.s[i] | bit : this.s[i] & ~bit);
  }

  hostState(p: number): PageState {
    return this.field(p, HOST, 2);
  }
  setHostState(p: number, st: PageState): void {
    this.setField(p, HOST, 2, st);
  }
  hypState(p: number): PageState {
    return this.field(p, HYP, 2);
  }
  setHypState(p: number, st: PageState): void {
    this.setField(p, HYP, 2, st);
  }
  hostShareGuestCount(p: number): number {
    return this.s[p * PAGE_WORDS + 1 + CNT];
  }
  setHostShareGuestCount(p: number, n: number): void {
    this.put(p * PAGE_WORDS + 1 + CNT, n);
  }
  refcount(p: number): number {
    return this.s[p * PAGE_WORDS + 1 + REF];
  }
  setRefcount(p: number, n: number): void {
    this.put(p * PAGE_WORDS + 1 + REF, n);
  }
  /** Ghost: the page is shared with the secure world through the FF-A proxy. */
  ffaShared(p: number): boolean {
    return this.flag(p, FFA);
  }
  setFfaShared(p: number, on: boolean): void {
    this.setFlag(p, FFA, on);
  }
  /** Ghost: a finalized VM left this page behind (semantics 5, "Leaks"). */
  leaked(p: number): boolean {
    return this.flag(p, LEAKED);
  }
  setLeaked(p: number, on: boolean): void {
    this.setFlag(p, LEAKED, on);
  }

  // ---- per page: hyp stage-1 and host stage-2 --------------------------------------------

  hypS1Mapped(p: number): boolean {
    return this.flag(p, S1);
  }
  setHypS1Mapped(p: number, on: boolean): void {
    this.setFlag(p, S1, on);
  }
  hostS2(p: number): S2 {
    return this.field(p, S2_KIND, 2);
  }
  hostS2Prot(p: number): number {
    return this.field(p, S2_PROT, 3);
  }
  annotationOwner(p: number): Owner {
    return this.flag(p, ANNOT_OWNER) ? Owner.GUEST : Owner.HYP;
  }
  annotationVm(p: number): number {
    return this.s[p * PAGE_WORDS + 1 + ANNOT] & 0xff;
  }
  annotationGfn(p: number): number {
    return this.s[p * PAGE_WORDS + 1 + ANNOT] >>> 8;
  }
  setHostS2Empty(p: number): void {
    this.setHostS2(p, S2.EMPTY, 0, Owner.HYP, 0, 0);
  }
  setHostS2Idmap(p: number, prot: number): void {
    this.setHostS2(p, S2.IDMAP, prot, Owner.HYP, 0, 0);
  }
  setHostS2Annotation(p: number, owner: Owner, vm = 0, gfn = 0): void {
    this.setHostS2(p, S2.ANNOTATION, 0, owner, vm, gfn);
  }
  private setHostS2(p: number, kind: S2, prot: number, owner: Owner, vm: number, gfn: number): void {
    this.setField(p, S2_KIND, 2, kind);
    this.setField(p, S2_PROT, 3, prot);
    this.setFlag(p, ANNOT_OWNER, owner === Owner.GUEST);
    this.put(p * PAGE_WORDS + 1 + ANNOT, (vm | (gfn << 8)) >>> 0);
  }

  // ---- per page: contents label ------------------------------------------------------------

  contents(p: number): Contents {
    return this.field(p, CONTENTS, 2);
  }
  contentsVm(p: number): number {
    return this.field(p, CONTENTS_VM, 8);
  }
  setContents(p: number, c: Contents, vm = 0): void {
    this.setField(p, CONTENTS, 2, c);
    this.setField(p, CONTENTS_VM, 8, c === Contents.GUEST ? vm : 0);
  }

  // ---- the one physical CPU ----------------------------------------------------------------

  /** VM slot of the loaded vCPU, or -1. */
  loadedVm(): number {
    return this.s[0] === 0 ? -1 : (this.s[0] & 0xffff) - 1;
  }
  loadedVcpu(): number {
    return this.s[0] === 0 ? -1 : this.s[0] >>> 16;
  }
  setLoaded(vm: number, vcpu: number): void {
    this.put(0, (vm + 1) | (vcpu << 16));
  }
  clearLoaded(): void {
    this.put(0, 0);
  }

  // ---- per VM slot ---------------------------------------------------------------------------

  vmLife(v: number): VmLife {
    return this.s[this.w.vm[v].base];
  }
  setVmLife(v: number, l: VmLife): void {
    this.put(this.w.vm[v].base, l);
  }
  vmMetaPfn(v: number): number {
    return this.s[this.w.vm[v].meta];
  }
  setVmMetaPfn(v: number, pfn: number): void {
    this.put(this.w.vm[v].meta, pfn);
  }
  /** The vCPU's metadata pfn, or -1 when the slot is not initialised. */
  vcpuPfn(v: number, i: number): number {
    return this.s[this.w.vm[v].vcpus + i] - 1;
  }
  setVcpuPfn(v: number, i: number, pfn: number): void {
    this.put(this.w.vm[v].vcpus + i, pfn + 1);
  }
  memcacheCount(v: number, i: number): number {
    return this.s[this.memcacheBase(v, i)];
  }
  memcachePage(v: number, i: number, k: number): number {
    return this.s[this.memcacheBase(v, i) + 1 + k];
  }
  memcachePush(v: number, i: number, pfn: number): void {
    const b = this.memcacheBase(v, i);
    this.put(b + 1 + this.s[b], pfn);
    this.put(b, this.s[b] + 1);
  }
  memcachePop(v: number, i: number): number {
    const b = this.memcacheBase(v, i);
    const pfn = this.s[b + this.s[b]];
    this.put(b + this.s[b], 0);
    this.put(b, this.s[b] - 1);
    return pfn;
  }
  private memcacheBase(v: number, i: number): number {
    return this.w.vm[v].memcache + i * (1 + this.w.memcacheCap);
  }
  /** The guest stage-2 leaf table covering gfns [t * blockPages, (t + 1) * blockPages), or -1. */
  tablePfn(v: number, t: number): number {
    return this.s[this.w.vm[v].tables + t] - 1;
  }
  setTablePfn(v: number, t: number, pfn: number): void {
    this.put(this.w.vm[v].tables + t, pfn + 1);
  }

  // ---- per VM slot and gfn: the guest stage-2 leaf --------------------------------------------

  private gword(v: number, gfn: number): number {
    return this.s[this.w.vm[v].gfns + gfn];
  }
  guestEntry(v: number, gfn: number): GuestEntry {
    return this.gword(v, gfn) & 3;
  }
  /** Guest page state; NOPAGE for an absent or poisoned leaf. */
  guestState(v: number, gfn: number): PageState {
    const e = this.gword(v, gfn);
    return (e & 3) === GuestEntry.MAPPED ? (e >>> G_STATE) & 3 : PageState.NOPAGE;
  }
  guestProt(v: number, gfn: number): number {
    return (this.gword(v, gfn) >>> G_PROT) & 7;
  }
  guestBlock(v: number, gfn: number): boolean {
    return (this.gword(v, gfn) & G_BLOCK) !== 0;
  }
  guestPfn(v: number, gfn: number): number {
    return Math.floor(this.gword(v, gfn) / G_PFN);
  }
  setGuestMapping(v: number, gfn: number, pfn: number, st: PageState, prot: number, block: boolean): void {
    this.put(this.w.vm[v].gfns + gfn, (GuestEntry.MAPPED | (st << G_STATE) | (prot << G_PROT) | (block ? G_BLOCK : 0)) + pfn * G_PFN);
  }
  setGuestState(v: number, gfn: number, st: PageState): void {
    this.setGuestMapping(v, gfn, this.guestPfn(v, gfn), st, this.guestProt(v, gfn), this.guestBlock(v, gfn));
  }
  setGuestProt(v: number, gfn: number, prot: number): void {
    this.setGuestMapping(v, gfn, this.guestPfn(v, gfn), this.guestState(v, gfn), prot, this.guestBlock(v, gfn));
  }
  setGuestPoison(v: number, gfn: number): void {
    this.put(this.w.vm[v].gfns + gfn, GuestEntry.POISON);
  }
  clearGuestEntry(v: number, gfn: number): void {
    this.put(this.w.vm[v].gfns + gfn, 0);
  }
}
