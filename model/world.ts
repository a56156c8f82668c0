// What a world config fixes for the whole run: the firmware's memblock layout (regions and the
// gaps between them) and where each field lives in a state's words. Derived once per config.

import type { WorldConfig } from "./config.js";

/** A memblock region, a NOMAP region, or a gap between regions (MMIO, or past the limit). */
export enum SegKind {
  MEMORY = 0,
  NOMAP = 1,
  GAP = 2,
}

/** Words per page in the state (flags, host_share_guest_count, refcount, annotation). */
export const PAGE_WORDS = 4;

export interface VmLayout {
  base: number; // lifecycle word
  meta: number; // VM metadata / stage-2 root pfn
  vcpus: number; // one word per vCPU: metadata pfn + 1, or 0
  memcache: number; // per vCPU: a count word, then `memcacheCap` pfns (LIFO)
  tables: number; // one word per guest stage-2 leaf table: its pfn + 1, or 0
  gfns: number; // one word per guest frame
  nTables: number;
}

export class World {
  readonly pages: number;
  /** Segment id of every pfn below the limit, and of the gap past it. */
  readonly seg: Int32Array;
  readonly segKind: SegKind[] = [];
  readonly pastLimitSeg: number;
  readonly memcacheCap: number;
  readonly vm: VmLayout[] = [];
  readonly words: number;

  constructor(readonly config: WorldConfig) {
    const { pages, mmio, nomap } = config;
    this.pages = pages;
    const kindOf = (p: number): SegKind =>
      mmio.some(([s, e]) => p >= s && p < e) ? SegKind.GAP : nomap.includes(p) ? SegKind.NOMAP : SegKind.MEMORY;
    this.seg = new Int32Array(pages);
    for (let p = 0; p < pages; p++) {
      const k = kindOf(p);
      if (p === 0 || k !== this.segKind[this.segKind.length - 1]) this.segKind.push(k);
      this.seg[p] = this.segKind.length - 1;
    }
    // The gap after the last region runs to infinity: a trailing MMIO run is part of it.
    if (this.segKind[this.segKind.length - 1] === SegKind.GAP) {
      this.pastLimitSeg = this.segKind.length - 1;
    } else {
      this.segKind.push(SegKind.GAP);
      this.pastLimitSeg = this.segKind.length - 1;
    }

    let ram = 0;
    for (let p = 0; p < pages; p++) if (kindOf(p) !== SegKind.GAP) ram++;
    this.memcacheCap = config.memcache ? ram : 0;

    let off = 1 + pages * PAGE_WORDS; // word 0: the loaded vCPU
    for (const v of config.vms) {
      const nTables = config.memcache ? Math.ceil(v.gfns / config.blockPages) : 0;
      const l: VmLayout = {
        base: off,
        meta: off + 1,
        vcpus: off + 2,
        memcache: off + 2 + v.vcpus,
        tables: off + 2 + v.vcpus + v.vcpus * (1 + this.memcacheCap),
        gfns: 0,
        nTables,
      };
      l.gfns = l.tables + nTables;
      off = l.gfns + v.gfns;
      this.vm.push(l);
    }
    this.words = off;
  }

  /** Segment of any pfn, including pfns past the address limit (up to 2^53). */
  segOf(pfn: number): number {
    return pfn < this.pages ? this.seg[pfn] : this.pastLimitSeg;
  }

  isMemory(pfn: number): boolean {
    return pfn < this.pages && this.segKind[this.seg[pfn]] !== SegKind.GAP;
  }
}
