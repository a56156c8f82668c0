// What one step changed, read off the words it wrote (or, when it wrote many, the words of the
// whole state before and after it): the pages whose
// per-page checks could change (the pages whose words changed, and the old and new pfn of every
// guest leaf that changed, and every pfn mapped by a VM whose life changed) and the words that
// changed, for the step checks and an incremental fingerprint. One pass over the words, no allocation: the random engine does this every step.

import { leafWordPfn } from "../../model/state.js";
import type { StepChange } from "../../properties/lib/pages.js";
import { PAGE_WORDS, type World } from "../../model/world.js";

const enum Kind {
  /** The loaded vCPU, a VM's metadata, vCPUs, memcache and tables: no per-page check reads them. */
  OTHER = 0,
  PAGE = 1,
  LEAF = 2,
  /** A VM's life: guest leaves of an ABSENT slot do not count (guestMaps, annotations). */
  LIFE = 3,
}

export class StepDelta {
  /** The pages to check, `pageCount` of them, without repeats (properties/lib/pages.ts withStepChange). */
  readonly pages: Int32Array;
  pageCount = 0;
  /** The changed word indices, `wordCount` of them. */
  readonly words: Int32Array;
  wordCount = 0;
  private readonly kind: Uint8Array;
  /** The VM slot of each life word. */
  private readonly lifeVm = new Map<number, number>();
  private readonly seen: Uint8Array;
  private readonly wordSeen: Uint8Array;

  constructor(private readonly w: World) {
    this.pages = new Int32Array(w.pages);
    this.words = new Int32Array(w.words);
    this.seen = new Uint8Array(w.pages);
    this.wordSeen = new Uint8Array(w.words);
    this.kind = new Uint8Array(w.words);
    this.kind.fill(Kind.PAGE, 1, 1 + w.pages * PAGE_WORDS);
    w.config.vms.forEach((v, i) => {
      this.kind[w.vm[i].base] = Kind.LIFE;
      this.lifeVm.set(w.vm[i].base, i);
      this.kind.fill(Kind.LEAF, w.vm[i].gfns, w.vm[i].gfns + v.gfns);
    });
  }

  /** The pages to check after the step, as a view. */
  pagesChanged(): Int32Array {
    return this.pages.subarray(0, this.pageCount);
  }

  /** What the step changed, for the checks (properties/lib/pages.ts withStepChange). */
  change(): StepChange {
    return { pages: this.pagesChanged(), words: this.words.subarray(0, this.wordCount) };
  }

  /**
   * Compares the states; true when the step changed anything. `written`: the words the step
   * wrote (PkvmState.writeLog), when they all fit in it; else every word is compared.
   */
  compute(pre: Uint32Array, post: Uint32Array, written?: Int32Array, count = 0): boolean {
    for (let i = 0; i < this.pageCount; i++) this.seen[this.pages[i]] = 0;
    for (let i = 0; i < this.wordCount; i++) this.wordSeen[this.words[i]] = 0;
    this.pageCount = 0;
    this.wordCount = 0;
    if (written !== undefined && count <= written.length) {
      for (let j = 0; j < count; j++) {
        const i = written[j];
        if (this.wordSeen[i] === 0 && pre[i] !== post[i]) this.changed(pre, post, i);
      }
    } else {
      for (let i = 0; i < pre.length; i++) if (pre[i] !== post[i]) this.changed(pre, post, i);
    }
    return this.wordCount > 0;
  }

  private changed(pre: Uint32Array, post: Uint32Array, i: number): void {
    this.wordSeen[i] = 1;
    this.words[this.wordCount++] = i;
    switch (this.kind[i] as Kind) {
      case Kind.PAGE:
        this.page(((i - 1) / PAGE_WORDS) | 0);
        break;
      case Kind.LEAF:
        this.page(leafWordPfn(pre[i]));
        this.page(leafWordPfn(post[i]));
        break;
      case Kind.LIFE: {
        // Leaves of an ABSENT slot do not count: every page the VM's leaves map may change verdict.
        const v = this.lifeVm.get(i)!;
        const base = this.w.vm[v].gfns;
        for (let g = 0; g < this.w.config.vms[v].gfns; g++) {
          this.page(leafWordPfn(pre[base + g]));
          this.page(leafWordPfn(post[base + g]));
        }
        break;
      }
    }
  }

  private page(p: number): void {
    if (p < 0 || p >= this.w.pages || this.seen[p] !== 0) return;
    this.seen[p] = 1;
    this.pages[this.pageCount++] = p;
  }
}
