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

/**
 * A state takes at most this many words (16 MiB, about a million pages): engines hold several,
 * a search many more. parseWorldConfig refuses bigger worlds before anything is allocated.
 */
export const MAX_STATE_WORDS = 1 << 22;

/** Words of RAM pages (not MMIO): the capacity of each vCPU's memcache. */
function ramPages({ pages, mmio }: WorldConfig): number {
  return pages - mmio.reduce((n, [s, e]) => n + e - s, 0);
}

/** The state's words, and the config key that accounts for most of them (its pages or its VMs). */
export function stateFootprint(c: WorldConfig): { words: number; key: string; why: string } {
  const cap = c.memcache ? ramPages(c) : 0;
  const pages = 1 + c.pages * PAGE_WORDS;
  let [vms, vcpus, gfns] = [0, 0, 0];
  for (const v of c.vms) {
    const tables = c.memcache ? Math.ceil(v.gfns / c.blockPages) : 0;
    vms += 2 + v.vcpus * (2 + cap) + tables + v.gfns;
    vcpus += v.vcpus;
    gfns += v.gfns;
  }
  if (pages >= vms) return { words: pages + vms, key: "pages", why: `${c.pages} pages x ${PAGE_WORDS} words` };
  const memcache = c.memcache ? ` with memcaches of up to ${cap} pages each` : "";
  return { words: pages + vms, key: "vms", why: `${c.vms.length} VMs: ${vcpus} vCPUs${memcache}, ${gfns} guest frames` };
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
    // One mark per pfn: a config may list 100,000 NOMAP pages, so no list is scanned per page.
    const kind = new Uint8Array(pages);
    for (const p of nomap) kind[p] = SegKind.NOMAP;
    for (const [s, e] of mmio) kind.fill(SegKind.GAP, s, e);
    const kindOf = (p: number): SegKind => kind[p];
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

    this.memcacheCap = config.memcache ? ramPages(config) : 0;

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
