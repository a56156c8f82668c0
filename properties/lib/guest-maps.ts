// The reverse of the guest stage-2s: for each pfn, how many guest leaves map it in each state,
// and one of those leaves to name in a message. Built in one pass over every present VM's
// guest frames, into typed arrays allocated once per world: properties run on every state of an
// exhaustive search, so no per-page objects.

import { GuestEntry, PageState, VmLife, type PkvmState } from "../../model/state.js";
import type { World } from "../../model/world.js";
import { finding, type Finding } from "../property.js";
import { checkedPages, tracked } from "./pages.js";

const STATES = 4; // indexed by PageState; the NOPAGE column stays 0

export class GuestMaps {
  private readonly count: Uint32Array;
  /** Slot + 1 of the last OWNED / SO leaf seen for a pfn (0: none), and its gfn. */
  private readonly ownerVm: Uint32Array;
  private readonly ownerGfn: Uint32Array;
  /** The same for SB leaves. */
  private readonly borrowerVm: Uint32Array;
  private readonly borrowerGfn: Uint32Array;

  /** The pfns the last build counted: the next one zeroes only them, not every page. */
  private readonly dirty: Int32Array;
  private nDirty = 0;

  constructor(readonly w: World) {
    this.dirty = new Int32Array(w.config.vms.reduce((n, v) => n + v.gfns, 0));
    this.count = new Uint32Array(w.pages * STATES);
    this.ownerVm = new Uint32Array(w.pages);
    this.ownerGfn = new Uint32Array(w.pages);
    this.borrowerVm = new Uint32Array(w.pages);
    this.borrowerGfn = new Uint32Array(w.pages);
  }

  /** Re-index `s`. Leaves of absent slots and leaves naming a pfn past the limit are left out. */
  build(s: PkvmState): this {
    for (let i = 0; i < this.nDirty; i++) {
      const p = this.dirty[i];
      this.count.fill(0, p * STATES, p * STATES + STATES);
      this.ownerVm[p] = 0;
      this.borrowerVm[p] = 0;
    }
    this.nDirty = 0;
    const { vms } = this.w.config;
    for (let v = 0; v < vms.length; v++) {
      if (s.vmLife(v) === VmLife.ABSENT) continue;
      for (let g = 0; g < vms[v].gfns; g++) {
        if (s.guestEntry(v, g) !== GuestEntry.MAPPED) continue;
        const p = s.guestPfn(v, g);
        if (p >= this.w.pages) continue;
        const st = s.guestState(v, g);
        this.dirty[this.nDirty++] = p;
        this.count[p * STATES + st]++;
        if (st === PageState.SHARED_BORROWED) {
          this.borrowerVm[p] = v + 1;
          this.borrowerGfn[p] = g;
        } else {
          this.ownerVm[p] = v + 1;
          this.ownerGfn[p] = g;
        }
      }
    }
    return this;
  }

  /** Guest leaves mapping p in state st. */
  mapped(p: number, st: PageState): number {
    return this.count[p * STATES + st];
  }

  /** Guest leaves that own p (OWNED or SO). */
  owners(p: number): number {
    return this.count[p * STATES + PageState.OWNED] + this.count[p * STATES + PageState.SHARED_OWNED];
  }

  /** Guest leaves of any state mapping p. */
  mappings(p: number): number {
    return this.owners(p) + this.count[p * STATES + PageState.SHARED_BORROWED];
  }

  /** "vm 0 gfn 1": an owning leaf of p, else a borrowing one; "" when no guest maps p. */
  where(p: number): string {
    if (this.ownerVm[p] > 0) return `vm ${this.ownerVm[p] - 1} gfn ${this.ownerGfn[p]}`;
    if (this.borrowerVm[p] > 0) return `vm ${this.borrowerVm[p] - 1} gfn ${this.borrowerGfn[p]}`;
    return "";
  }

  /** The frame `where` names, for Finding.frames. */
  frames(p: number): [vm: number, gfn: number][] {
    if (this.ownerVm[p] > 0) return [[this.ownerVm[p] - 1, this.ownerGfn[p]]];
    if (this.borrowerVm[p] > 0) return [[this.borrowerVm[p] - 1, this.borrowerGfn[p]]];
    return [];
  }
}

const byWorld = new WeakMap<World, GuestMaps>();

/**
 * The index of `s`. The arrays are shared per world and rebuilt by every call: read the result
 * before asking for another state's index.
 */
export function guestMaps(s: PkvmState): GuestMaps {
  let m = byWorld.get(s.w);
  if (!m) {
    m = new GuestMaps(s.w);
    byWorld.set(s.w, m);
  }
  return m.build(s);
}

/**
 * The first tracked page `problem` objects to, given the index of `s`: a finding naming the page
 * and the guest frames that map it.
 */
export function firstPageProblem(s: PkvmState, problem: (s: PkvmState, maps: GuestMaps, p: number) => string | null): Finding | null {
  const maps = guestMaps(s);
  for (const p of checkedPages(s)) {
    if (!tracked(s, p)) continue;
    const what = problem(s, maps, p);
    if (what) return finding(`pfn ${p}: ${what}`, { pages: [p], frames: maps.frames(p) });
  }
  return null;
}
