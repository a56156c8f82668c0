// Symmetry reduction for the exhaustive search: the permutations of pages, VM slots and vCPU
// slots that the semantics cannot tell apart (docs/symmetry.md gives the argument), and the
// canonical representative of a state's orbit under them: the least image, word by word.
//
// A permutation renames every field that names a page or a slot: a page's words move with the
// page; annotations and contents labels name a VM slot; a VM's metadata, vCPU, memcache and
// table words and its guest leaves name pages; the loaded vCPU names a VM and a vCPU slot.

import { Contents, GuestEntry, Owner, PkvmState, S2, VmLife } from "../../model/state.js";
import { PAGE_WORDS, type World } from "../../model/world.js";
import { initialState } from "../../model/init.js";
import type { Finding, Property } from "../../properties/property.js";
import type { AlphabetStep } from "../alphabet.js";
import type { Engine } from "../engine.js";

/** One element of the group: where each page, VM slot and (per source VM) vCPU slot goes. */
export interface Permutation {
  readonly page: Int32Array;
  readonly vm: Int32Array;
  /** vcpu[v][i]: the slot that VM v's vCPU i takes in the image (inside VM vm[v]). */
  readonly vcpu: readonly Int32Array[];
}

/** More group elements than this and canonicalisation would cost more than it saves. */
const MAX_GROUP = 5040;

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  const out: number[][] = [];
  for (const rest of permutations(n - 1)) {
    for (let i = 0; i <= rest.length; i++) out.push([...rest.slice(0, i), n - 1, ...rest.slice(i)]);
  }
  return out;
}

/** All bijections of `items` onto itself, as lists of images in `items`' order. */
function bijections(items: readonly number[]): number[][] {
  return permutations(items.length).map((p) => p.map((i) => items[i]));
}

/**
 * The page permutations the model cannot observe: whole aligned blocks move (offsets inside a
 * block are kept, so block shares and their alignment check see the same thing), and a block
 * may go only where every page has the same memblock segment kind and the same initial words.
 * Segments map onto segments, and two neighbours in one segment stay neighbours in order: a
 * host range that stays in one segment maps to a range; one that leaves its segment is refused
 * in every state with the same errno (docs/symmetry.md).
 */
function pagePermutations(w: World): Int32Array[] {
  const b = w.config.blockPages;
  const blocks = Math.floor(w.pages / b); // a partial last block never moves
  const init = initialState(w);
  const pageKey = (p: number): string => `${w.segKind[w.seg[p]]}:${init.subarray(1 + p * PAGE_WORDS, 1 + (p + 1) * PAGE_WORDS).join(",")}`;
  const blockKey = (blk: number): string => Array.from({ length: b }, (_, i) => pageKey(blk * b + i)).join("|");
  const classes = new Map<string, number[]>();
  for (let blk = 0; blk < blocks; blk++) {
    const key = blockKey(blk);
    classes.set(key, [...(classes.get(key) ?? []), blk]);
  }
  const movable = [...classes.values()].filter((c) => c.length > 1);
  let choices: number[][] = [Array.from({ length: blocks }, (_, i) => i)];
  for (const cls of movable) {
    if (choices.length * permutations(cls.length).length > MAX_GROUP) break;
    choices = choices.flatMap((base) => bijections(cls).map((img) => {
      const next = base.slice();
      cls.forEach((from, i) => (next[from] = img[i]));
      return next;
    }));
  }
  const out: Int32Array[] = [];
  for (const blockImage of choices) {
    const page = new Int32Array(w.pages);
    for (let p = 0; p < w.pages; p++) page[p] = p < blocks * b ? blockImage[Math.floor(p / b)] * b + (p % b) : p;
    if (keepsSegments(w, page)) out.push(page);
  }
  return out;
}

/** Segments map onto segments; a run of blockPages pages inside one segment (a host range of the alphabet) maps to a run. */
function keepsSegments(w: World, page: Int32Array): boolean {
  const b = w.config.blockPages;
  for (let x = 0; x < w.pages; x++) {
    for (let y = 0; y < w.pages; y++) {
      if ((w.seg[x] === w.seg[y]) !== (w.seg[page[x]] === w.seg[page[y]])) return false;
    }
    if (x + b > w.pages || w.seg[x + b - 1] !== w.seg[x]) continue;
    const image = Array.from({ length: b }, (_, i) => page[x + i]);
    if (Math.max(...image) - Math.min(...image) !== b - 1) return false;
  }
  return true;
}

/** VM slots with the same config are interchangeable: the adversary picks the handle (init_vm's vm). */
function vmPermutations(w: World): Int32Array[] {
  const vms = w.config.vms;
  const classes = new Map<string, number[]>();
  vms.forEach((v, i) => {
    const key = `${v.protected}:${v.vcpus}:${v.gfns}`;
    classes.set(key, [...(classes.get(key) ?? []), i]);
  });
  let out: number[][] = [vms.map((_, i) => i)];
  for (const cls of classes.values()) {
    if (cls.length < 2) continue;
    out = out.flatMap((base) => bijections(cls).map((img) => {
      const next = base.slice();
      cls.forEach((from, i) => (next[from] = img[i]));
      return next;
    }));
  }
  return out.map((p) => Int32Array.from(p));
}

/** Every combination of a vCPU permutation per VM slot. */
function vcpuPermutations(w: World): Int32Array[][] {
  let out: Int32Array[][] = [[]];
  for (const v of w.config.vms) {
    const perms = permutations(v.vcpus).map((p) => Int32Array.from(p));
    out = out.flatMap((base) => perms.map((p) => [...base, p]));
  }
  return out;
}

export class Symmetry {
  readonly group: readonly Permutation[];
  private readonly src: PkvmState;
  private readonly dst: PkvmState;
  private readonly best: Uint32Array;

  constructor(readonly world: World, group?: readonly Permutation[]) {
    this.group = group ?? Symmetry.groupOf(world);
    this.src = new PkvmState(world);
    this.dst = new PkvmState(world);
    this.best = new Uint32Array(world.words);
  }

  /**
   * The group of a world (identity first): pages x VM slots x vCPU slots. Past MAX_GROUP
   * elements a factor is left out (vCPUs first, then VM slots): a subgroup is still sound.
   */
  static groupOf(w: World): Permutation[] {
    const identity = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
    let pages = pagePermutations(w);
    let vms = vmPermutations(w);
    let vcpus = vcpuPermutations(w);
    if (pages.length * vms.length * vcpus.length > MAX_GROUP) vcpus = [w.config.vms.map((v) => identity(v.vcpus))];
    if (pages.length * vms.length > MAX_GROUP) vms = [identity(w.config.vms.length)];
    if (pages.length > MAX_GROUP) pages = [identity(w.pages)];
    const out: Permutation[] = [];
    for (const page of pages) for (const vm of vms) for (const vcpu of vcpus) out.push({ page, vm, vcpu });
    const isIdentity = (g: Permutation) =>
      g.page.every((x, i) => x === i) && g.vm.every((x, i) => x === i) && g.vcpu.every((p) => p.every((x, i) => x === i));
    const id = out.findIndex(isIdentity);
    [out[0], out[id]] = [out[id], out[0]];
    return out;
  }

  /** True when the group is the identity alone: the reduction would only cost time. */
  get trivial(): boolean {
    return this.group.length === 1;
  }

  /** Writes g(s) into `out`. */
  apply(g: Permutation, s: Uint32Array, out: Uint32Array): void {
    const w = this.world;
    const src = this.src;
    const dst = this.dst;
    src.s = s;
    dst.s = out;
    out.fill(0);
    if (src.loadedVm() >= 0) dst.setLoaded(g.vm[src.loadedVm()], g.vcpu[src.loadedVm()][src.loadedVcpu()]);
    for (let p = 0; p < w.pages; p++) {
      const to = g.page[p];
      out.set(s.subarray(1 + p * PAGE_WORDS, 1 + (p + 1) * PAGE_WORDS), 1 + to * PAGE_WORDS);
      if (src.hostS2(p) === S2.ANNOTATION && src.annotationOwner(p) === Owner.GUEST) {
        dst.setHostS2Annotation(to, Owner.GUEST, g.vm[src.annotationVm(p)], src.annotationGfn(p));
      }
      if (src.contents(p) === Contents.GUEST) dst.setContents(to, Contents.GUEST, g.vm[src.contentsVm(p)]);
    }
    for (let v = 0; v < w.vm.length; v++) {
      const to = g.vm[v];
      const life = src.vmLife(v);
      dst.setVmLife(to, life);
      if (life !== VmLife.ABSENT) dst.setVmMetaPfn(to, g.page[src.vmMetaPfn(v)]);
      const cap = w.memcacheCap;
      for (let i = 0; i < w.config.vms[v].vcpus; i++) {
        const j = g.vcpu[v][i];
        const pfn = src.vcpuPfn(v, i);
        if (pfn >= 0) dst.setVcpuPfn(to, j, g.page[pfn]);
        const from = w.vm[v].memcache + i * (1 + cap);
        const into = w.vm[to].memcache + j * (1 + cap);
        out[into] = s[from];
        for (let k = 0; k < s[from]; k++) out[into + 1 + k] = g.page[s[from + 1 + k]];
      }
      for (let t = 0; t < w.vm[v].nTables; t++) {
        const pfn = src.tablePfn(v, t);
        if (pfn >= 0) dst.setTablePfn(to, t, g.page[pfn]);
      }
      for (let gfn = 0; gfn < w.config.vms[v].gfns; gfn++) {
        const e = src.guestEntry(v, gfn);
        if (e === GuestEntry.POISON) dst.setGuestPoison(to, gfn);
        else if (e === GuestEntry.MAPPED) {
          dst.setGuestMapping(to, gfn, g.page[src.guestPfn(v, gfn)], src.guestState(v, gfn), src.guestProt(v, gfn), src.guestBlock(v, gfn));
        }
      }
    }
  }

  /**
   * Replaces `s` by its orbit's canonical representative (the least image) and returns the
   * orbit's size: the group's order over the order of the stabiliser of `s`.
   */
  canonicalize(s: Uint32Array, scratch: Uint32Array): number {
    const best = this.best;
    best.set(s);
    let fixing = 1; // the identity
    for (let i = 1; i < this.group.length; i++) {
      this.apply(this.group[i], s, scratch);
      const c = compareWords(scratch, best);
      if (c < 0) best.set(scratch);
      if (compareWords(scratch, s) === 0) fixing++;
    }
    s.set(best);
    return this.group.length / fixing;
  }
}

function compareWords(a: Uint32Array, b: Uint32Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

/**
 * A concrete trace for a path the reduced search found over canonical states: each step of
 * `path` leads from canonical state P_i to P_{i+1}; from the concrete state c_i (of P_i's orbit)
 * the first alphabet step whose successor has P_{i+1} as its canonical form is taken. The last
 * step must also violate `property` (its image does, properties being invariant). The engine's
 * kernel view is left pointing where it was.
 */
export function concretePath(
  engine: Engine,
  alphabet: readonly AlphabetStep[],
  sym: Symmetry,
  path: readonly number[],
  property: Property,
): { path: number[]; finding: Finding } {
  const w = engine.world;
  const saved = engine.k.s;
  const scratch = new Uint32Array(w.words);
  const canon = (s: Uint32Array): Uint32Array => {
    const c = s.slice();
    sym.canonicalize(c, scratch);
    return c;
  };
  let P = canon(engine.initial());
  let c = engine.initial();
  const out: number[] = [];
  let finding: Finding | null = path.length === 0 ? (property.checkState?.(new PkvmState(w, c)) ?? null) : null;
  for (let i = 0; i < path.length; i++) {
    const last = i === path.length - 1;
    const target = canon(engine.step(P, alphabet[path[i]]).state);
    const pre = new PkvmState(w, c);
    const a = alphabet.findIndex((step) => {
      if (step.enabled && !step.enabled(pre)) return false;
      const r = engine.step(c, step);
      if (compareWords(canon(r.state), target) !== 0) return false;
      if (!last) return true;
      const post = new PkvmState(w, r.state);
      finding = property.checkStep?.(new PkvmState(w, c), step, r.ret, post) ?? property.checkState?.(post) ?? null;
      return finding !== null;
    });
    if (a < 0) throw new Error(`symmetry: no concrete step matches step ${i} of a reduced path (the group is not a symmetry of this model)`);
    out.push(a);
    c = engine.step(c, alphabet[a]).state;
    P = target;
  }
  engine.k.s = saved;
  if (finding === null) throw new Error(`symmetry: the concrete trace does not violate ${property.id}`);
  return { path: out, finding };
}
