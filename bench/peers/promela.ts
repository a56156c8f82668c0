// A Promela port of the host <-> hyp and FF-A transitions and the host accesses (the world of
// bench/quint/pkvm_small.qnt: no VMs), generated from pkvm-check's own alphabet so that both tools
// try the same steps. Every step is one `d_step`: its state-independent checks (range validity,
// memblock regions, the hyp's pin discipline past the limit) are decided here, its page-state
// checks and effects are emitted as straight-line Promela over one variable per page field. No
// variable holds anything but the pKVM state, so SPIN's stored states are pkvm-check's states.

import { Pkvm } from "../../model/pkvm.js";
import { initialState } from "../../model/init.js";
import { OK } from "../../model/errno.js";
import { Contents, PageState, PkvmState, S2 } from "../../model/state.js";
import type { World } from "../../model/world.js";
import type { AlphabetStep } from "../../src/alphabet.js";

const { NOPAGE, OWNED, SHARED_OWNED: SO, SHARED_BORROWED: SB } = PageState;
/** The host stage-2 entry as one variable: kind and prot together. */
const S2_EMPTY = 0;
const S2_IDMAP_RWX = 1;
const S2_IDMAP_RW = 2;
const S2_ANNOTATION = 3;
export const PIN_BOUND = 2;

/** The actions the port covers; in a world without VMs every other action changes nothing. */
export const PORTED = [
  "host_share_hyp", "host_unshare_hyp", "host_donate_hyp", "hyp_pin_shared_mem", "hyp_unpin_shared_mem",
  "host_share_ffa", "host_unshare_ffa", "host_read", "host_write",
];

function s2Of(k: PkvmState, p: number): number {
  if (k.hostS2(p) === S2.ANNOTATION) return S2_ANNOTATION;
  if (k.hostS2(p) === S2.EMPTY) return S2_EMPTY;
  return k.hostS2Prot(p) === 7 ? S2_IDMAP_RWX : S2_IDMAP_RW;
}

const all = (ps: number[], f: (p: number) => string): string => (ps.length === 0 ? "true" : ps.map(f).join(" && "));
const each = (ps: number[], f: (p: number) => string): string => ps.map(f).join("; ");
const guarded = (cond: string, effect: string): string => (effect === "" ? "skip" : `if :: (${cond}) -> ${effect} :: else -> skip fi`);

/** The Promela body of one alphabet step, or undefined when it never changes the state. */
function body(k: Pkvm, step: AlphabetStep): string | undefined {
  const w = k.w;
  const { pfn, nr_pages } = step.args;
  const range = (nr: number): number[] => Array.from({ length: Math.max(0, Math.min(pfn + nr, w.pages) - pfn) }, (_, i) => pfn + i);
  const hostRangeOk = (nr: number) => k.checkRangeAllowedMemory(pfn, nr) === OK;
  switch (step.action.name) {
    case "host_share_hyp":
      return hostRangeOk(1) ? guarded(`hs${pfn} == ${OWNED} && ys${pfn} == ${NOPAGE}`, `hs${pfn} = ${SO}; ys${pfn} = ${SB}`) : undefined;
    case "host_unshare_hyp":
      return hostRangeOk(1) ? guarded(`hs${pfn} == ${SO} && ys${pfn} == ${SB} && rc${pfn} == 0`, `ys${pfn} = ${NOPAGE}; hs${pfn} = ${OWNED}`) : undefined;
    case "host_donate_hyp": {
      if (!k.pfnRangeIsValid(pfn, nr_pages) || !hostRangeOk(nr_pages)) return undefined;
      const r = range(nr_pages);
      return guarded(all(r, (p) => `hs${p} == ${OWNED} && ys${p} == ${NOPAGE}`), each(r, (p) => `hs${p} = ${NOPAGE}; s2${p} = ${S2_ANNOTATION}; ys${p} = ${OWNED}; s1${p} = 1`));
    }
    case "hyp_pin_shared_mem": {
      // The hyp's discipline: every page below the limit with fewer than PIN_BOUND pins.
      if (pfn + nr_pages > w.pages || !hostRangeOk(nr_pages)) return undefined;
      const r = range(nr_pages);
      return guarded(all(r, (p) => `rc${p} < ${PIN_BOUND} && hs${p} == ${SO} && ys${p} == ${SB}`), each(r, (p) => `rc${p}++; s1${p} = 1`));
    }
    case "hyp_unpin_shared_mem": {
      if (pfn + nr_pages > w.pages) return undefined;
      const r = range(nr_pages);
      return guarded(all(r, (p) => `rc${p} > 0`), each(r, (p) => `rc${p}--; if :: rc${p} == 0 -> s1${p} = 0 :: else -> skip fi`));
    }
    case "host_share_ffa": {
      if (!k.pfnRangeIsValid(pfn, nr_pages) || !hostRangeOk(nr_pages)) return undefined;
      const r = range(nr_pages);
      return guarded(all(r, (p) => `hs${p} == ${OWNED}`), each(r, (p) => `hs${p} = ${SO}; ff${p} = 1`));
    }
    case "host_unshare_ffa": {
      if (pfn + nr_pages > w.pages || !k.pfnRangeIsValid(pfn, nr_pages) || !hostRangeOk(nr_pages)) return undefined;
      const r = range(nr_pages);
      return guarded(all(r, (p) => `ff${p} == 1 && hs${p} == ${SO}`), each(r, (p) => `hs${p} = ${OWNED}; ff${p} = 0`));
    }
    case "host_read":
    case "host_write": {
      if (pfn >= w.pages) return undefined;
      const mem = w.isMemory(pfn);
      const fault = `if :: s2${pfn} == ${S2_EMPTY} -> s2${pfn} = ${mem ? S2_IDMAP_RWX : S2_IDMAP_RW} :: else -> skip fi`;
      const write = step.action.name === "host_write" && mem ? `; ct${pfn} = ${Contents.HOST}` : "";
      return guarded(`s2${pfn} != ${S2_ANNOTATION}`, fault + write);
    }
    default:
      return undefined;
  }
}

/** The Promela model of world `w` (no VMs) over `steps`, pkvm-check's alphabet of it. */
export function promelaHostHyp(w: World, steps: readonly AlphabetStep[]): string {
  if (w.config.vms.length > 0) throw new Error("promelaHostHyp: a world without VMs");
  const k = new Pkvm(w);
  const init = new PkvmState(w, initialState(w));
  const decls: string[] = [];
  for (let p = 0; p < w.pages; p++) {
    decls.push(
      `byte hs${p} = ${init.hostState(p)}; byte ys${p} = ${init.hypState(p)}; byte rc${p} = ${init.refcount(p)}; ` +
        `byte s2${p} = ${s2Of(init, p)}; bit s1${p} = ${init.hypS1Mapped(p) ? 1 : 0}; byte ct${p} = ${init.contents(p)}; bit ff${p} = ${init.ffaShared(p) ? 1 : 0};`,
    );
  }
  const options = steps.flatMap((s) => {
    const b = body(k, s);
    return b === undefined ? [] : [`  :: d_step { ${b} } /* ${s.action.name} ${JSON.stringify(s.args)} */`];
  });
  return [
    `/* Generated by bench/peers/promela.ts from pkvm-check's alphabet of ${JSON.stringify(w.config)}. */`,
    ...decls,
    "active proctype pkvm() {",
    "  do",
    ...options,
    "  od",
    "}",
    "",
  ].join("\n");
}
