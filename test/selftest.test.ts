// The kernel's own test vectors (semantics 8): selftest.trace.json ports
// pkvm_ownership_selftest() step by step. Every step must return what the kernel asserts, and
// the selftest page must be in the state the kernel's assert_page_state() expects after every
// step. The trace's meta records those expected states and the port's adaptations.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ACTION_BY_NAME, formatStep, stepOf, type Step } from "../model/actions.js";
import { parseProt, type Args } from "../model/args.js";
import { parseWorldConfig } from "../model/config.js";
import type { Ret } from "../model/errno.js";
import { Contents, GuestEntry, PageState, PkvmState } from "../model/state.js";
import { World } from "../model/world.js";
import { Engine } from "../src/engine.js";

type StateName = keyof typeof PageState | "POISON";

interface TraceStep {
  action: string;
  args: Record<string, number | boolean | string>;
  expect?: Ret;
}

/** What the kernel's selftest_state says of the page, from step `from` on. */
interface PageStates {
  from: number;
  host: StateName;
  hyp: StateName;
  npGuest: [StateName, StateName];
  pGuest: [StateName, StateName];
}

interface Checkpoint {
  after: number;
  refcount?: number;
  shareCount?: number;
  contents?: keyof typeof Contents;
}

interface SelftestTrace {
  format: string;
  config: unknown;
  steps: TraceStep[];
  meta: { pfn: number; gfn: number; npVm: number; pVm: number; pageStates: PageStates[]; counts: Checkpoint[] };
}

const trace = JSON.parse(readFileSync(new URL("./selftest.trace.json", import.meta.url), "utf8")) as SelftestTrace;
const world = new World(parseWorldConfig(trace.config));
const { pfn, gfn, npVm, pVm } = trace.meta;

function toStep({ action, args }: TraceStep): Step {
  const { prot, ...rest } = args;
  const parsed: Partial<Args> = { ...(rest as Partial<Args>) };
  if (prot !== undefined) {
    const p = parseProt(prot as string);
    if (p === null) throw new Error(`bad prot ${String(prot)}`);
    parsed.prot = p;
  }
  return stepOf(action, parsed);
}

/** Every state the trace goes through: states[i] is the state after step i. */
function run(): { rets: Ret[]; states: Uint32Array[] } {
  const engine = new Engine(world);
  let s = engine.initial();
  const rets: Ret[] = [];
  const states: Uint32Array[] = [];
  for (const t of trace.steps) {
    const r = engine.step(s, toStep(t));
    s = r.state;
    rets.push(r.ret);
    states.push(s);
  }
  return { rets, states };
}

function guestStateName(k: PkvmState, vm: number, g: number): StateName {
  return k.guestEntry(vm, g) === GuestEntry.POISON ? "POISON" : (PageState[k.guestState(vm, g)] as StateName);
}

/** The page as assert_page_state() sees it: host, hyp, and both VMs at gfn and gfn + 1. */
function observed(k: PkvmState): Omit<PageStates, "from"> {
  return {
    host: PageState[k.hostState(pfn)] as StateName,
    hyp: PageState[k.hypState(pfn)] as StateName,
    npGuest: [guestStateName(k, npVm, gfn), guestStateName(k, npVm, gfn + 1)],
    pGuest: [guestStateName(k, pVm, gfn), guestStateName(k, pVm, gfn + 1)],
  };
}

describe("pkvm_ownership_selftest() (selftest.trace.json)", () => {
  const { rets, states } = run();

  it("is a well-formed pkvm-trace/1 whose steps name exactly their action's arguments", () => {
    expect(trace.format).toBe("pkvm-trace/1");
    expect(Object.keys(trace).sort()).toEqual(["config", "format", "meta", "steps"]);
    const bad = trace.steps.flatMap((t, i) => {
      const def = ACTION_BY_NAME.get(t.action);
      const ok = def && [...Object.keys(t.args)].sort().join() === [...def.args].sort().join() && t.expect !== undefined;
      return ok ? [] : [`${i}: ${t.action}`];
    });
    expect(bad).toEqual([]);
  });

  it("every step returns what the kernel selftest asserts", () => {
    const mismatches = trace.steps.flatMap((t, i) =>
      rets[i] === t.expect ? [] : [`${i}: ${formatStep(toStep(t))} returned ${rets[i]}, expected ${t.expect}`],
    );
    expect(mismatches).toEqual([]);
  });

  it("the page is in the state assert_page_state() expects after every step", () => {
    const { pageStates } = trace.meta;
    expect(pageStates[0].from).toBe(0);
    const mismatches = states.flatMap((s, i) => {
      const { from: _from, ...want } = pageStates.filter((p) => p.from <= i).at(-1)!;
      const got = observed(new PkvmState(world, s));
      return JSON.stringify(got) === JSON.stringify(want)
        ? []
        : [`after ${i} (${trace.steps[i].action}): ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`];
    });
    expect(mismatches).toEqual([]);
  });

  it("walks the page through every state the kernel names, POISON included", () => {
    const seen = new Set(states.flatMap((s) => Object.values(observed(new PkvmState(world, s))).flat()));
    expect([...seen].sort()).toEqual(["NOPAGE", "OWNED", "POISON", "SHARED_BORROWED", "SHARED_OWNED"]);
  });

  it("pins, share counts and scrubbing match the selftest's checkpoints", () => {
    for (const c of trace.meta.counts) {
      const k = new PkvmState(world, states[c.after]);
      const where = `after step ${c.after} (${trace.steps[c.after].action})`;
      if (c.refcount !== undefined) expect(k.refcount(pfn), where).toBe(c.refcount);
      if (c.shareCount !== undefined) expect(k.hostShareGuestCount(pfn), where).toBe(c.shareCount);
      if (c.contents !== undefined) expect(Contents[k.contents(pfn)], where).toBe(c.contents);
    }
    expect(trace.meta.counts.length).toBeGreaterThan(0);
  });

  it("ends with the page hyp-owned again and no VM left", () => {
    const k = new PkvmState(world, states[states.length - 1]);
    expect(observed(k)).toEqual({ host: "NOPAGE", hyp: "OWNED", npGuest: ["NOPAGE", "NOPAGE"], pGuest: ["NOPAGE", "NOPAGE"] });
    expect(world.config.vms.map((_, v) => k.vmLife(v))).toEqual([0, 0]);
  });
});
