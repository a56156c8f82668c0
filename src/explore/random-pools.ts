// Where the random engine's arguments come from: pools of pfns, gfns, VM slots and vCPUs that
// are in an interesting state right now (shared with hyp, pinned, owned by a guest, mapped in a
// block, ...). A uniform pick over 64 pages almost never lands on the one page a guest owns;
// drawing from these pools does, so runs get past the first refusal into deep states.

import { GuestEntry, Owner, PageState, S2, VmLife, type PkvmState } from "../../model/state.js";
import { SegKind, type World } from "../../model/world.js";
import { PageSet } from "./page-set.js";

/** The candidate values of one argument: a list, or a page pool kept up to date (ascending). */
export type Candidates = readonly number[] | PageSet;

/** The candidate values of one argument in state k; `vm` is the step's VM slot, once chosen. */
export type Pool = (k: PkvmState, vm: number) => Candidates;

const { NOPAGE, OWNED, SHARED_OWNED: SO, SHARED_BORROWED: SB } = PageState;

type PagePredicate = (k: PkvmState, p: number) => boolean;

/** The per-page predicates of the page pools, and of the block pools (true of every page of an aligned block). */
const PAGE_PREDICATES: PagePredicate[] = [];
const BLOCK_PREDICATES: PagePredicate[] = [];

/**
 * The page pools of one state, kept up to date by whoever changes that state (the random
 * engine, from the pages each step changed) instead of being found by a scan of every page.
 */
export class PagePools {
  private readonly pages: PageSet[];
  private readonly blocks: PageSet[];

  constructor(readonly w: World) {
    this.pages = PAGE_PREDICATES.map(() => new PageSet(w.pages));
    this.blocks = BLOCK_PREDICATES.map(() => new PageSet(w.pages));
  }

  pageSet(id: number): PageSet {
    return this.pages[id];
  }

  blockSet(id: number): PageSet {
    return this.blocks[id];
  }

  /** Every pool of state k, from scratch. */
  build(k: PkvmState): void {
    const all = Int32Array.from({ length: this.w.pages }, (_, i) => i);
    this.update(k, all);
  }

  /** After a step that changed no page but (some of) `pages`. */
  update(k: PkvmState, pages: Int32Array): void {
    const b = this.w.config.blockPages;
    let lastBlock = -1;
    for (let i = 0; i < pages.length; i++) {
      const p = pages[i];
      for (let id = 0; id < this.pages.length; id++) this.pages[id].set(p, PAGE_PREDICATES[id](k, p));
      const start = p - (p % b);
      if (start === lastBlock || start + b > this.w.pages) continue;
      lastBlock = start;
      for (let id = 0; id < this.blocks.length; id++) {
        let all = true;
        for (let q = start; q < start + b && all; q++) all = BLOCK_PREDICATES[id](k, q);
        this.blocks[id].set(start, all);
      }
    }
  }

  copyFrom(o: PagePools): void {
    this.pages.forEach((s, i) => s.copyFrom(o.pages[i]));
    this.blocks.forEach((s, i) => s.copyFrom(o.blocks[i]));
  }
}

const attached = new WeakMap<PkvmState, PagePools>();

/** From now on the page pools of k are read from `pools`, which the caller keeps up to date with k. */
export function attachPagePools(k: PkvmState, pools: PagePools): void {
  attached.set(k, pools);
}

function pfnsWhere(ok: PagePredicate): Pool {
  const id = PAGE_PREDICATES.push(ok) - 1;
  return (k) => {
    const kept = attached.get(k);
    if (kept) return kept.pageSet(id);
    const out: number[] = [];
    for (let p = 0; p < k.w.pages; p++) if (ok(k, p)) out.push(p);
    return out;
  };
}

function gfnsWhere(ok: (k: PkvmState, vm: number, g: number) => boolean): Pool {
  return (k, vm) => {
    const out: number[] = [];
    for (let g = 0; g < k.w.config.vms[vm].gfns; g++) if (ok(k, vm, g)) out.push(g);
    return out;
  };
}

function vmsWhere(ok: (k: PkvmState, v: number) => boolean): Pool {
  return (k) => {
    const out: number[] = [];
    for (let v = 0; v < k.w.config.vms.length; v++) if (ok(k, v)) out.push(v);
    return out;
  };
}

function vcpusWhere(ok: (k: PkvmState, vm: number, i: number) => boolean): Pool {
  return (k, vm) => {
    const out: number[] = [];
    for (let i = 0; i < k.w.config.vms[vm].vcpus; i++) if (ok(k, vm, i)) out.push(i);
    return out;
  };
}

/** The first page of a block (pfn aligned) whose pages all satisfy ok. */
function alignedBlocksWhere(ok: PagePredicate): Pool {
  const id = BLOCK_PREDICATES.push(ok) - 1;
  return (k) => {
    const kept = attached.get(k);
    if (kept) return kept.blockSet(id);
    const b = k.w.config.blockPages;
    const out: number[] = [];
    for (let p = 0; p + b <= k.w.pages; p += b) {
      let all = true;
      for (let q = p; q < p + b && all; q++) all = ok(k, q);
      if (all) out.push(p);
    }
    return out;
  };
}

const memory = (k: PkvmState, p: number): boolean => k.w.isMemory(p);
const hostOwnedPage = (k: PkvmState, p: number): boolean => memory(k, p) && k.hostState(p) === OWNED;

export const hostOwned = pfnsWhere(hostOwnedPage);
export const hypShared = pfnsWhere((k, p) => k.hostState(p) === SO && k.hypState(p) === SB);
export const pinned = pfnsWhere((k, p) => k.refcount(p) > 0);
export const ffaShared = pfnsWhere((k, p) => k.ffaShared(p));
export const guestShared = pfnsWhere((k, p) => k.hostShareGuestCount(p) > 0);
export const hypOwned = pfnsWhere((k, p) => k.hypState(p) === OWNED);
export const guestOwned = pfnsWhere(
  (k, p) => k.hostState(p) === NOPAGE && k.hostS2(p) === S2.ANNOTATION && k.annotationOwner(p) === Owner.GUEST,
);
export const hostBorrowed = pfnsWhere((k, p) => k.hostState(p) === SB);
export const leaked = pfnsWhere((k, p) => k.leaked(p));
/** Pages the host may not touch, or only borrows: where host accesses must abort or stay confined. */
export const notHostOwned = pfnsWhere((k, p) => memory(k, p) && k.hostState(p) !== OWNED && k.hostState(p) !== SO);
export const alignedHostOwned = alignedBlocksWhere(hostOwnedPage);
/** Pages a guest maps through a block leaf. */
export const inGuestBlock: Pool = (k) => {
  const out: number[] = [];
  k.w.config.vms.forEach((v, vm) => {
    for (let g = 0; g < v.gfns; g++) if (k.guestEntry(vm, g) === GuestEntry.MAPPED && k.guestBlock(vm, g)) out.push(k.guestPfn(vm, g));
  });
  return out;
};
const edges = new WeakMap<World, number[]>();
/** Where range checks decide: the first and last page of every region and gap, and one past the limit (fixed per world). */
export const edgePfns: Pool = (k) => {
  let out = edges.get(k.w);
  if (out) return out;
  out = [k.w.pages];
  for (let p = 0; p < k.w.pages; p++) {
    if (p === 0 || k.w.seg[p] !== k.w.seg[p - 1]) out.push(p);
    if (p === k.w.pages - 1 || k.w.seg[p] !== k.w.seg[p + 1]) out.push(p);
  }
  edges.set(k.w, out);
  return out;
};
/** NOMAP and MMIO pages: memory the host owns but may not give away, and device memory. */
export const notDonatable = pfnsWhere((k, p) => k.w.segKind[k.w.seg[p]] !== SegKind.MEMORY);

const entryIs = (e: GuestEntry) => gfnsWhere((k, vm, g) => k.guestEntry(vm, g) === e);
const guestStateIs = (st: PageState) => gfnsWhere((k, vm, g) => k.guestEntry(vm, g) === GuestEntry.MAPPED && k.guestState(vm, g) === st);

export const gfnAbsent = entryIs(GuestEntry.ABSENT);
export const gfnMapped = entryIs(GuestEntry.MAPPED);
export const gfnPoisoned = entryIs(GuestEntry.POISON);
export const gfnOwned = guestStateIs(OWNED);
export const gfnSharedOwned = guestStateIs(SO);
export const gfnBorrowed = guestStateIs(SB);
/** Block-aligned gfns whose whole block is unmapped: where a block share can land. */
export const gfnAlignedAbsent: Pool = (k, vm) => {
  const b = k.w.config.blockPages;
  const out: number[] = [];
  for (let g = 0; g + b <= k.w.config.vms[vm].gfns; g += b) {
    let all = true;
    for (let h = g; h < g + b && all; h++) all = k.guestEntry(vm, h) === GuestEntry.ABSENT;
    if (all) out.push(g);
  }
  return out;
};
/** The first gfn of every block leaf. */
export const gfnBlockStart = gfnsWhere(
  (k, vm, g) => k.guestEntry(vm, g) === GuestEntry.MAPPED && k.guestBlock(vm, g) && g % k.w.config.blockPages === 0,
);
export const gfnPastEnd: Pool = (k, vm) => [k.w.config.vms[vm].gfns];

export const vmLoaded: Pool = (k) => (k.loadedVm() < 0 ? [] : [k.loadedVm()]);
export const vmWithLife = (l: VmLife): Pool => vmsWhere((k, v) => k.vmLife(v) === l);
export const vmPresent = vmsWhere((k, v) => k.vmLife(v) !== VmLife.ABSENT);

/**
 * The VM a guest-side step runs on: the loaded one when it has the right type, else the slots of
 * that type that can still run one (the lifecycle redirect builds and loads it), else any.
 */
export function vmOfType(protectedVm: boolean): Pool {
  const ofType = (k: PkvmState, v: number): boolean => k.w.config.vms[v].protected === protectedVm;
  const usable = vmsWhere((k, v) => ofType(k, v) && k.vmLife(v) !== VmLife.DYING);
  const any = vmsWhere(ofType);
  return (k, vm) => {
    const l = k.loadedVm();
    if (l >= 0 && ofType(k, l)) return [l];
    const u = usable(k, vm);
    return u.length > 0 ? u : any(k, vm);
  };
}
export const vmPresentOfType = (protectedVm: boolean): Pool =>
  vmsWhere((k, v) => k.vmLife(v) !== VmLife.ABSENT && k.w.config.vms[v].protected === protectedVm);

export const vcpuFree = vcpusWhere((k, vm, i) => k.vcpuPfn(vm, i) < 0);
export const vcpuReady = vcpusWhere((k, vm, i) => k.vcpuPfn(vm, i) >= 0);

export const one: Pool = () => [1];
export const blockNr: Pool = (k) => [k.w.config.blockPages];
