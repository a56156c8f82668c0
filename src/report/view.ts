// A trace's states, and each state as named rows of named fields: the vocabulary shared by the
// step diff, the watch list and the HTML report. A row is one page (RAM, or MMIO, which has only
// its host stage-2 entry: the host maps device memory on a fault), one guest frame, one VM slot
// or the physical CPU; a field holds what the kernel would print for it.

import { formatProt } from "../../model/args.js";
import type { Ret } from "../../model/errno.js";
import { Contents, GuestEntry, Owner, PageState, PkvmState, S2, VmLife } from "../../model/state.js";
import type { World } from "../../model/world.js";
import { Engine, type ModelVariant, type Step } from "../engine.js";

export interface TraceStates {
  world: World;
  /** The initial state, then the state after each step: states[i + 1] follows steps[i]. */
  states: Uint32Array[];
  rets: Ret[];
}

/**
 * A trace's states one at a time: visit(i, state, prev) for state i (0 the initial state, i + 1
 * after step i) and the state before it; both buffers are valid only during the call. A walk
 * keeps two states whatever the trace's length, so a million-step trace renders in bounded
 * memory, and it can be walked again (a renderer that aligns columns walks twice).
 */
export interface StateWalk {
  readonly world: World;
  walk(visit: (i: number, state: Uint32Array, prev: Uint32Array | undefined) => void): void;
}

/** Runs steps on the reference engine (or a model variant) in place, from the initial state. */
export function walkTrace(world: World, steps: readonly Step[], variant?: ModelVariant): StateWalk {
  return {
    world,
    walk(visit) {
      const engine = new Engine(world, variant);
      let state = engine.initial();
      let prev = new Uint32Array(state.length);
      visit(0, state, undefined);
      for (let i = 0; i < steps.length; i++) {
        prev.set(state);
        engine.applyInPlace(state, steps[i]);
        visit(i + 1, state, prev);
      }
    },
  };
}

/** The walk over states already kept (small traces, tests). */
export function asWalk(states: TraceStates | StateWalk): StateWalk {
  if ("walk" in states) return states;
  return { world: states.world, walk: (visit) => states.states.forEach((s, i) => visit(i, s, states.states[i - 1])) };
}

/** Runs steps on the reference engine (or a model variant) from the initial state, keeping every state. */
export function traceStates(world: World, steps: readonly Step[], variant?: ModelVariant): TraceStates {
  const engine = new Engine(world, variant);
  const states = [engine.initial()];
  const rets = steps.map((step) => {
    const r = engine.step(states[states.length - 1], step);
    states.push(r.state);
    return r.ret;
  });
  return { world, states, rets };
}

export type Row =
  | { kind: "page"; label: string; pfn: number }
  | { kind: "frame"; label: string; vm: number; gfn: number }
  | { kind: "vm"; label: string; vm: number }
  | { kind: "cpu"; label: string };

export const pageRow = (pfn: number): Row => ({ kind: "page", label: `pfn ${pfn}`, pfn });
export const frameRow = (vm: number, gfn: number): Row => ({ kind: "frame", label: `vm ${vm} gfn ${gfn}`, vm, gfn });

/** Every page below the limit, every guest frame of every VM slot, every VM slot, and the CPU. */
export function rowsOf(w: World): Row[] {
  const rows: Row[] = [];
  for (let pfn = 0; pfn < w.pages; pfn++) rows.push(pageRow(pfn));
  w.config.vms.forEach((vm, v) => {
    for (let gfn = 0; gfn < vm.gfns; gfn++) rows.push(frameRow(v, gfn));
  });
  w.config.vms.forEach((_, v) => rows.push({ kind: "vm", label: `vm ${v}`, vm: v }));
  rows.push({ kind: "cpu", label: "cpu" });
  return rows;
}

export type Fields = [name: string, value: string][];

const prot = (p: number) => formatProt(p) || "none";
const pfnOrNone = (pfn: number) => (pfn < 0 ? "-" : `pfn ${pfn}`);

/** The host stage-2 entry of a page, as every report spells it. */
export function hostStage2(k: PkvmState, pfn: number): string {
  switch (k.hostS2(pfn)) {
    case S2.EMPTY:
      return "EMPTY";
    case S2.IDMAP:
      return `IDMAP ${prot(k.hostS2Prot(pfn))}`;
    case S2.ANNOTATION:
      return k.annotationOwner(pfn) === Owner.HYP
        ? "ANNOTATION hyp"
        : `ANNOTATION guest vm ${k.annotationVm(pfn)} gfn ${k.annotationGfn(pfn)}`;
  }
}

export function guestLeaf(k: PkvmState, vm: number, gfn: number): string {
  switch (k.guestEntry(vm, gfn)) {
    case GuestEntry.ABSENT:
      return "absent";
    case GuestEntry.POISON:
      return "POISON";
    case GuestEntry.MAPPED:
      return `pfn ${k.guestPfn(vm, gfn)} ${PageState[k.guestState(vm, gfn)]} ${prot(k.guestProt(vm, gfn))}${k.guestBlock(vm, gfn) ? " block" : ""}`;
  }
}

export function fieldsOf(k: PkvmState, row: Row): Fields {
  switch (row.kind) {
    case "page": {
      const p = row.pfn;
      if (!k.w.isMemory(p)) return [["host stage-2", hostStage2(k, p)]];
      const contents = k.contents(p);
      return [
        ["host", PageState[k.hostState(p)]],
        ["hyp", PageState[k.hypState(p)]],
        ["share count", String(k.hostShareGuestCount(p))],
        ["refcount", String(k.refcount(p))],
        ["host stage-2", hostStage2(k, p)],
        ["hyp stage-1", k.hypS1Mapped(p) ? "mapped" : "-"],
        ["contents", contents === Contents.GUEST ? `GUEST vm ${k.contentsVm(p)}` : Contents[contents]],
        ["FF-A", k.ffaShared(p) ? "shared" : "-"],
        ["leaked", k.leaked(p) ? "leaked" : "-"],
      ];
    }
    case "frame":
      return [["stage-2", guestLeaf(k, row.vm, row.gfn)]];
    case "vm":
      return vmFields(k, row.vm);
    case "cpu":
      return [["loaded", k.loadedVm() < 0 ? "none" : `vm ${k.loadedVm()} vcpu ${k.loadedVcpu()}`]];
  }
}

function vmFields(k: PkvmState, v: number): Fields {
  const life = k.vmLife(v);
  const fields: Fields = [
    ["life", VmLife[life]],
    ["metadata", life === VmLife.ABSENT ? "-" : `pfn ${k.vmMetaPfn(v)}`],
  ];
  for (let i = 0; i < k.w.config.vms[v].vcpus; i++) {
    fields.push([`vcpu ${i}`, pfnOrNone(k.vcpuPfn(v, i))]);
    if (k.w.config.memcache) {
      const pages = Array.from({ length: k.memcacheCount(v, i) }, (_, j) => k.memcachePage(v, i, j));
      fields.push([`vcpu ${i} memcache`, pages.length ? pages.join(" ") : "-"]);
    }
  }
  for (let t = 0; t < k.w.vm[v].nTables; t++) fields.push([`table ${t}`, pfnOrNone(k.tablePfn(v, t))]);
  return fields;
}

export interface Change {
  row: Row;
  field: string;
  before: string;
  after: string;
}

/** The fields that differ between two states, row by row in `rows` order. */
export function changes(w: World, rows: readonly Row[], before: Uint32Array, after: Uint32Array): Change[] {
  const a = new PkvmState(w, before);
  const b = new PkvmState(w, after);
  const out: Change[] = [];
  for (const row of rows) {
    const fb = fieldsOf(b, row);
    fieldsOf(a, row).forEach(([field, was], i) => {
      if (was !== fb[i][1]) out.push({ row, field, before: was, after: fb[i][1] });
    });
  }
  return out;
}
