// Shared test helpers: a world from a config literal, and a runner that applies named steps
// and returns each step's return string.

import { expect } from "vitest";
import { formatStep, stepOf } from "../model/actions.js";
import type { Args } from "../model/args.js";
import { parseWorldConfig } from "../model/config.js";
import type { Ret } from "../model/errno.js";
import { Pkvm } from "../model/pkvm.js";
import { S2, type PkvmState } from "../model/state.js";
import { PAGE_WORDS, World } from "../model/world.js";
import { Engine } from "../src/engine.js";

export function world(config: unknown): World {
  return new World(parseWorldConfig(config));
}

/** A machine that runs named steps on the reference engine; `k` reads the current state. */
export class Machine {
  readonly engine: Engine;
  state: Uint32Array;

  constructor(config: unknown) {
    this.engine = new Engine(world(config));
    this.state = this.engine.initial();
  }

  get k(): Pkvm {
    return new Pkvm(this.engine.world, this.state);
  }

  run(name: string, args: Partial<Args> = {}): Ret {
    const r = this.engine.step(this.state, stepOf(name, args));
    this.state = r.state;
    return r.ret;
  }
}

// ---- Transition tests: setup, refusals that must change nothing, and whole-page views ----

/** A step as a test writes it: the action name and the arguments it names. */
export type Call = readonly [name: string, args?: Partial<Args>];

/** A machine after `calls`, each of which must return "0": the state a test starts from. */
export function machineAfter(config: unknown, calls: readonly Call[] = []): Machine {
  const m = new Machine(config);
  for (const [name, args] of calls) {
    const ret = m.run(name, args);
    if (ret !== "0") throw new Error(`setup step ${formatStep(stepOf(name, args))} returned ${ret}`);
  }
  return m;
}

/** The state fields whose words differ between two states of world `w` ("page 3", "vm 0 gfn 2", ...). */
export function touched(w: World, a: Uint32Array, b: Uint32Array): string[] {
  const names = new Set<string>();
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) names.add(wordName(w, i));
  return [...names];
}

function wordName(w: World, i: number): string {
  if (i === 0) return "loaded";
  if (i < 1 + w.pages * PAGE_WORDS) return `page ${Math.floor((i - 1) / PAGE_WORDS)}`;
  let v = 0;
  while (v + 1 < w.vm.length && w.vm[v + 1].base <= i) v++;
  const l = w.vm[v];
  const memcacheWords = 1 + w.memcacheCap;
  if (i === l.base) return `vm ${v} life`;
  if (i === l.meta) return `vm ${v} meta`;
  if (i < l.memcache) return `vm ${v} vcpu ${i - l.vcpus}`;
  if (i < l.tables) return `vm ${v} memcache ${Math.floor((i - l.memcache) / memcacheWords)}`;
  if (i < l.gfns) return `vm ${v} table ${i - l.tables}`;
  return `vm ${v} gfn ${i - l.gfns}`;
}

/**
 * Runs a step that the model must refuse with `ret` and checks that it changed no state word
 * (invariant 13; a PANIC step leaves the state unchanged too).
 */
export function expectRefused(m: Machine, name: string, args: Partial<Args>, ret: Ret): void {
  const before = m.state;
  expect(m.run(name, args), formatStep(stepOf(name, args))).toBe(ret);
  expect(touched(m.engine.world, before, m.state), `${formatStep(stepOf(name, args))} changed state`).toEqual([]);
}

/** Everything the model records about one physical page, for whole-page comparisons. */
export function pageView(k: PkvmState, p: number) {
  return {
    host: k.hostState(p),
    hyp: k.hypState(p),
    shareCount: k.hostShareGuestCount(p),
    refcount: k.refcount(p),
    s2: k.hostS2(p),
    s2Prot: k.hostS2Prot(p),
    annotation: k.hostS2(p) === S2.ANNOTATION ? [k.annotationOwner(p), k.annotationVm(p), k.annotationGfn(p)] : null,
    hypS1: k.hypS1Mapped(p),
    contents: k.contents(p),
    contentsVm: k.contentsVm(p),
    ffa: k.ffaShared(p),
    leaked: k.leaked(p),
  };
}

/** A guest stage-2 leaf as a whole; pfn, prot and block are 0 / false unless the leaf is mapped. */
export function guestView(k: PkvmState, vm: number, gfn: number) {
  return {
    entry: k.guestEntry(vm, gfn),
    state: k.guestState(vm, gfn),
    pfn: k.guestPfn(vm, gfn),
    prot: k.guestProt(vm, gfn),
    block: k.guestBlock(vm, gfn),
  };
}

/**
 * The world of the transition tests. Memblock: RAM [0, 7) with pfn 0 hyp-owned, NOMAP [7, 9),
 * MMIO [9, 11), RAM [11, 20); pfns from 20 are past the limit. Blocks are 2 pages, so the
 * aligned blocks [6, 7], [8, 9] and [10, 11] each cross a region boundary. vm 0 is protected
 * with 2 vCPUs, vm 1 non-protected with 1; 4 gfns each. The share count saturates at 2.
 */
export const TEST_WORLD = {
  pages: 20,
  mmio: [[9, 11]],
  nomap: [7, 8],
  hypPages: [0],
  blockPages: 2,
  maxShareCount: 2,
  vms: [
    { protected: true, vcpus: 2, gfns: 4 },
    { protected: false, vcpus: 1, gfns: 4 },
  ],
};
export const PVM = 0;
export const NPVM = 1;
/** Boots vm 0 (metadata pfn 1, vCPU 0 pfn 2) and vm 1 (pfn 3, vCPU 0 pfn 4); loads nothing. */
export const BOOT_PVM: readonly Call[] = [
  ["init_vm", { vm: PVM, pfn: 1 }],
  ["init_vcpu", { vm: PVM, vcpu: 0, pfn: 2 }],
];
export const BOOT_NPVM: readonly Call[] = [
  ["init_vm", { vm: NPVM, pfn: 3 }],
  ["init_vcpu", { vm: NPVM, vcpu: 0, pfn: 4 }],
];

/** Runs a step that must return "0" and checks that it changed exactly the state fields `fields`. */
export function expectOk(m: Machine, name: string, args: Partial<Args>, fields: readonly string[]): void {
  const before = m.state;
  expect(m.run(name, args), formatStep(stepOf(name, args))).toBe("0");
  expect(touched(m.engine.world, before, m.state).sort()).toEqual([...fields].sort());
}

/** The `touched` names of pages. */
export function pages(...pfns: number[]): string[] {
  return pfns.map((p) => `page ${p}`);
}

export type PageView = ReturnType<typeof pageView>;

/**
 * A world with room for a borrowed block beside each VM's own pages, and the vCPU memcache: a
 * protected VM of 2 gfns and a non-protected one of 4, 2-page blocks, the share count saturating at 2.
 */
export function memcacheWorld(pages: number) {
  return {
    pages,
    hypPages: [0],
    blockPages: 2,
    maxShareCount: 2,
    memcache: true,
    vms: [
      { protected: true, vcpus: 1, gfns: 2 },
      { protected: false, vcpus: 1, gfns: 4 },
    ],
  };
}
