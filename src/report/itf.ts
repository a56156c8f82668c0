// Traces in the Informal Trace Format (Apalache ADR-015), so that the ITF trace viewer and
// Quint / Apalache tooling open our counterexamples. One ITF state per model state, the initial
// one included; every state also carries the action that led to it, as Quint's model-based
// testing output does: `mbt::actionTaken` names it ("init" for the initial state) and
// `mbt::nondetPicks` holds each action argument as Some(value), or None when the action has no
// such argument. Integers are `#bigint`, tables are `#map`, enums are variants whose value is
// the unit tuple, optional values are Quint's Option variants.
//
// The state is exported in full (every field PkvmState holds, for every pfn below the limit, MMIO
// included: the host stage-2 maps device memory too), so that an ITF trace can be read back into
// exactly the model's states.

import { formatProt, makeArgs, type ArgName } from "../../model/args.js";
import { Contents, GuestEntry, Owner, PageState, PkvmState, S2, VmLife } from "../../model/state.js";
import type { ReplayResult } from "../replay.js";
import type { World } from "../../model/world.js";
import { collect, type Emit } from "./sink.js";
import { asWalk, type StateWalk, type TraceStates } from "./view.js";

export type ItfValue =
  | string
  | boolean
  | ItfValue[]
  | { "#bigint": string }
  | { "#tup": ItfValue[] }
  | { "#map": [ItfValue, ItfValue][] }
  | { tag: string; value: ItfValue }
  | { [field: string]: ItfValue };

export const ACTION_TAKEN = "mbt::actionTaken";
export const NONDET_PICKS = "mbt::nondetPicks";
export const ITF_VARS = ["loaded", "pages", "vms", "ret", ACTION_TAKEN, NONDET_PICKS] as const;
const ARG_NAMES = Object.keys(makeArgs()) as ArgName[];

const int = (n: number): ItfValue => ({ "#bigint": String(n) });
const UNIT: ItfValue = { "#tup": [] };
const variant = (tag: string, value: ItfValue = UNIT): ItfValue => ({ tag, value });
const some = (v: ItfValue) => variant("Some", v);
const NONE = variant("None");
const map = (entries: [ItfValue, ItfValue][]): ItfValue => ({ "#map": entries });
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function hostStage2(k: PkvmState, p: number): ItfValue {
  switch (k.hostS2(p)) {
    case S2.EMPTY:
      return variant("EMPTY");
    case S2.IDMAP:
      return variant("IDMAP", formatProt(k.hostS2Prot(p)));
    case S2.ANNOTATION:
      return variant(
        "ANNOTATION",
        k.annotationOwner(p) === Owner.HYP ? variant("HYP") : variant("GUEST", { vm: int(k.annotationVm(p)), gfn: int(k.annotationGfn(p)) }),
      );
  }
}

function page(k: PkvmState, p: number): ItfValue {
  const contents = k.contents(p);
  return {
    host_state: variant(PageState[k.hostState(p)]),
    hyp_state: variant(PageState[k.hypState(p)]),
    host_share_guest_count: int(k.hostShareGuestCount(p)),
    refcount: int(k.refcount(p)),
    host_stage2: hostStage2(k, p),
    hyp_stage1_mapped: k.hypS1Mapped(p),
    contents: contents === Contents.GUEST ? variant("GUEST", int(k.contentsVm(p))) : variant(Contents[contents]),
    ffa_shared: k.ffaShared(p),
    leaked: k.leaked(p),
  };
}

function guestLeaf(k: PkvmState, v: number, gfn: number): ItfValue {
  switch (k.guestEntry(v, gfn)) {
    case GuestEntry.ABSENT:
      return variant("ABSENT");
    case GuestEntry.POISON:
      return variant("POISON");
    case GuestEntry.MAPPED:
      return variant("MAPPED", {
        pfn: int(k.guestPfn(v, gfn)),
        state: variant(PageState[k.guestState(v, gfn)]),
        prot: formatProt(k.guestProt(v, gfn)),
        block: k.guestBlock(v, gfn),
      });
  }
}

function vm(k: PkvmState, v: number): ItfValue {
  const { vcpus, gfns } = k.w.config.vms[v];
  const pfnOption = (pfn: number) => (pfn < 0 ? NONE : some(int(pfn)));
  return {
    life: variant(VmLife[k.vmLife(v)]),
    metadata_pfn: int(k.vmMetaPfn(v)),
    vcpus: map(range(vcpus).map((i) => [int(i), pfnOption(k.vcpuPfn(v, i))])),
    memcaches: map(range(vcpus).map((i) => [int(i), range(k.memcacheCount(v, i)).map((j) => int(k.memcachePage(v, i, j)))])),
    tables: range(k.w.vm[v].nTables).map((t) => pfnOption(k.tablePfn(v, t))),
    gfns: map(range(gfns).map((gfn) => [int(gfn), guestLeaf(k, v, gfn)])),
  };
}

/** The state variables of one model state. */
function stateVars(k: PkvmState): Record<"loaded" | "pages" | "vms", ItfValue> {
  const w = k.w;
  return {
    loaded: k.loadedVm() < 0 ? NONE : some({ vm: int(k.loadedVm()), vcpu: int(k.loadedVcpu()) }),
    pages: map(range(w.pages).map((p) => [int(p), page(k, p)])),
    vms: map(w.config.vms.map((_, v) => [int(v), vm(k, v)])),
  };
}

/** The ITF state after step i - 1 (the initial state for i = 0), with the action that led to it. */
function itfState(r: ReplayResult, k: PkvmState, i: number): Record<string, unknown> {
  const step = r.steps[i - 1]?.step;
  const picks = Object.fromEntries(
    ARG_NAMES.map((n) => {
      if (!step || !step.action.args.includes(n)) return [n, NONE];
      const a = step.args[n];
      return [n, some(n === "prot" ? formatProt(a as number) : typeof a === "boolean" ? a : int(a))];
    }),
  );
  const violated = r.violations.filter((v) => v.step === i - 1).map((v) => v.property);
  return {
    "#meta": { index: i, ...(violated.length ? { violated } : {}) },
    ...stateVars(k),
    ret: step ? some(r.steps[i - 1].ret) : NONE,
    [ACTION_TAKEN]: step ? step.action.name : "init",
    [NONDET_PICKS]: picks,
  };
}

/** The ITF trace's fields before its states. */
function itfHead(r: ReplayResult, world: World): Record<string, unknown> {
  return {
    "#meta": {
      format: "ITF",
      "format-description": "https://apalache-mc.org/docs/adr/015adr-trace.html",
      source: r.file,
      description: "pkvm-check: a pkvm-trace/1 trace replayed on the reference model",
      config: world.config,
      violations: r.violations.map(({ property, step, finding }) => ({ property, step, message: finding.message })),
    },
    vars: [...ITF_VARS],
  };
}

/**
 * ITF's `loop` is the state the last state is followed by. Our last state is the one before
 * step `loop` (ITF state `loop`) again, so the run goes on with ITF state `loop + 1`; a stutter
 * loop (loop = the number of steps) follows the last state with itself.
 */
function itfLoop(loop: number, steps: number): number {
  return loop < steps ? loop + 1 : steps;
}

/** `dir/x.json` -> `dir/x.itf.json`: the ITF file written next to a counterexample. */
export function itfPathFor(trace: string): string {
  return `${trace.replace(/\.json$/, "")}.itf.json`;
}

/** The ITF file's text: one state per line, so that diffs and reviews read state by state. */
export function formatItf(r: ReplayResult, states: TraceStates | StateWalk): string {
  return collect((emit) => emitItf(r, asWalk(states), emit));
}

/** formatItf's text a state at a time: a million-step trace is written as it is walked. */
export function emitItf(r: ReplayResult, states: StateWalk, emit: Emit): void {
  const top = Object.entries(itfHead(r, states.world)).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  emit(`{\n${top.join(",\n")},\n"states": [\n`);
  const k = new PkvmState(states.world);
  states.walk((i, s) => {
    k.s = s;
    emit(`${i === 0 ? "" : ",\n"}${JSON.stringify(itfState(r, k, i))}`);
  });
  const loop = r.loop !== undefined ? `,\n"loop": ${itfLoop(r.loop, r.steps.length)}` : "";
  emit(`\n]${loop}\n}\n`);
}
