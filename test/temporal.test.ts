// Temporal properties: the graph analyses on hand-made graphs (fairness and stuttering), and
// each shipped property on a small world where it holds and on a hand-made model (a variant of
// finalize_teardown_vm) where it fails, its counterexample written as a trace and replayed: a
// path to a doomed state for AG EF, a lasso with `loop` for leads-to.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EBUSY, type Ret } from "../model/errno.js";
import * as life from "../model/lifecycle.js";
import type { Args } from "../model/args.js";
import type { Pkvm } from "../model/pkvm.js";
import { GuestEntry, PkvmState } from "../model/state.js";
import { parseWorldConfig } from "../model/config.js";
import { TEMPORAL_PROPERTIES } from "../properties/registry.js";
import type { EngineReport, Verdict } from "../src/check/report.js";
import { runBfs } from "../src/check/run-bfs.js";
import type { ModelVariant } from "../src/engine.js";
import { GraphBuilder } from "../src/explore/graph.js";
import { cannotReach, fairLasso } from "../src/explore/temporal.js";
import { formatItf } from "../src/report/itf.js";
import { traceStates } from "../src/report/view.js";
import { replay } from "../src/replay.js";
import { parseTrace, readTrace, traceToJson } from "../src/trace.js";

// ---- the analyses on hand-made graphs -------------------------------------------------------

/** A graph of `n` states with the given label words and edges [from, to, action]. */
function graph(labels: number[], edges: [number, number, number][]) {
  const b = new GraphBuilder(() => 0);
  const dummy = {} as PkvmState;
  labels.forEach((_, i) => b.state(i, dummy));
  for (const [f, t, a] of edges) b.edge(f, t, a);
  const g = b.freeze(labels.length);
  g.labels.set(labels);
  return g;
}

describe("AG EF by backward reachability", () => {
  it("finds the shallowest state that cannot reach the goal, and none when every state can", () => {
    // 0 -> 1 -> 2 (goal), 1 -> 3 -> 4 <-> 3: states 3 and 4 are doomed.
    const edges: [number, number, number][] = [[0, 1, 0], [1, 2, 0], [1, 3, 1], [3, 4, 0], [4, 3, 0]];
    expect(cannotReach(graph([0, 0, 1, 0, 0], edges), 0)).toBe(3);
    expect(cannotReach(graph([0, 0, 1, 0, 0], [...edges, [4, 2, 1]]), 0)).toBe(-1);
  });

  it("gives the same graph whether edges arrive sorted by source or not", () => {
    const a = graph([0, 0, 0], [[0, 1, 0], [0, 2, 1], [1, 2, 0], [2, 0, 2]]);
    const b = graph([0, 0, 0], [[2, 0, 2], [0, 1, 0], [1, 2, 0], [0, 2, 1]]);
    expect(Array.from(b.offsets)).toEqual(Array.from(a.offsets));
    for (let s = 0; s < 3; s++) {
      const row = (g: typeof a) => Array.from(g.to.subarray(g.offsets[s], g.offsets[s + 1])).map((t, i) => `${t}/${g.act[g.offsets[s] + i]}`).sort();
      expect(row(b)).toEqual(row(a));
    }
  });
});

describe("leads-to under weak fairness", () => {
  const P = 1;
  const Q = 2;
  const fair = [true, true, false]; // actions 0 and 1 are the host's; 2 is not fair

  it("a cycle that never takes a fair action enabled all along it is no counterexample", () => {
    // 0 (p) <-> 1 by action 2 (unfair); action 0 leads from both to 2 (q).
    const g = graph([P, 0, Q], [[0, 1, 2], [1, 0, 2], [0, 2, 0], [1, 2, 0]]);
    expect(fairLasso(g, 0, 1, fair)).toBeUndefined();
  });

  it("a cycle that takes the fair action, or passes where it is disabled, is one", () => {
    // 0 (p) -> 1 by 0, 1 -> 0 by 1; action 0 from 1 is not enabled, 1 -> 2 (q) by 2 (unfair).
    const g = graph([P, 0, Q], [[0, 1, 0], [1, 0, 1], [1, 2, 2]]);
    const l = fairLasso(g, 0, 1, fair)!;
    expect(l.start).toBe(0);
    expect(l.cycle.length).toBeGreaterThan(0);
    expect(l.cycle.sort()).toEqual([0, 1]);
  });

  it("stutters in a state where every fair action is disabled", () => {
    // 0 (p) -> 1 by 2; nothing fair is enabled in 1.
    const l = fairLasso(graph([P, 0], [[0, 1, 2]]), 0, 1, fair)!;
    expect(l).toEqual({ start: 0, stem: [2], cycle: [] });
  });
});

// ---- the shipped properties on a small world --------------------------------------------------

/** One protected VM with one vCPU and one gfn, three host pages: 10k states. */
const MINI = { pages: 4, hypPages: [0], blockPages: 2, maxShareCount: 2, vms: [{ protected: true, vcpus: 1, gfns: 1 }] };

/** finalize_teardown_vm refused (-EBUSY) while the VM's stage-2 has an entry that `blocks`. */
function finalizeRefusedWhile(blocks: (e: GuestEntry) => boolean): ModelVariant {
  return {
    transitions: {
      finalize_teardown_vm: (k: Pkvm, a: Args): Ret => {
        for (let g = 0; g < k.w.config.vms[a.vm].gfns; g++) if (blocks(k.guestEntry(a.vm, g))) return EBUSY;
        return life.finalize_teardown_vm(k, a);
      },
    },
  };
}
/** The fix of finalize-leaks-unreclaimed-guest-pages: no finalize while a guest page is mapped. */
const UNMAPPED_FIRST = finalizeRefusedWhile((e) => e === GuestEntry.MAPPED);
/** A model where a force-reclaimed (POISON) entry, which nothing can clear, blocks finalize forever. */
const POISON_BLOCKS = finalizeRefusedWhile((e) => e !== GuestEntry.ABSENT);

async function check(variant?: ModelVariant): Promise<{ report: EngineReport; verdict: (id: string) => Verdict }> {
  const report = await runBfs({ name: "mini", config: parseWorldConfig(MINI) }, {
    properties: [],
    temporal: TEMPORAL_PROPERTIES,
    out: mkdtempSync(join(tmpdir(), "temporal-")),
    keepGoing: false,
    allowInternal: false,
    baseline: [],
    progress: false,
    symmetry: false,
    workers: 1,
    variant,
  });
  return { report, verdict: (id) => report.verdicts.find((v) => v.property === id)! };
}

const real = await check();
const fixed = await check(UNMAPPED_FIRST);
const stuck = await check(POISON_BLOCKS);

describe("the shipped temporal properties", () => {

  it("reports every temporal property with its kind, and the graph's size", () => {
    expect(real.report.verdicts.map((v) => [v.property, v.kind])).toEqual([
      ["dying-vm-is-finalized", "leads-to"],
      ["host-can-recover-memory", "always-eventually-possible"],
      ["teardown-completes", "always-eventually-possible"],
    ]);
    expect(real.report.stats.edges).toBeGreaterThan(0);
    expect(real.report.stats.edgeBytes).toBeGreaterThanOrEqual(6);
  });

  it("host-can-recover-memory fails on the real model: a page not reclaimed before finalize never comes back", () => {
    const v = real.verdict("host-can-recover-memory");
    expect(v.status).toBe("fail");
    expect(v.message).toMatch(/pfn \d is host NOPAGE .*leaked.*no path from this state reaches the goal/);
    const trace = readTrace(v.counterexample!);
    expect(trace.steps.at(-1)!.step.action.name).toBe("finalize_teardown_vm");
    expect(trace.meta?.enabled).toEqual(expect.arrayContaining(["host_share_hyp(pfn=1)"]));
    const r = replay(trace);
    expect(r.violations.map((x) => [x.property, x.step])).toEqual([["host-can-recover-memory", trace.steps.length - 1]]);
  });

  it("host-can-recover-memory holds when finalize refuses a VM that still maps guest pages", () => {
    expect(fixed.verdict("host-can-recover-memory").status).toBe("pass");
  });

  it("teardown-completes and dying-vm-is-finalized hold on the real model", () => {
    expect(real.verdict("teardown-completes").status).toBe("pass");
    expect(real.verdict("dying-vm-is-finalized").status).toBe("pass");
  });

  it("teardown-completes fails where a poisoned entry blocks finalize: the replay searches the doomed state's future", () => {
    const v = stuck.verdict("teardown-completes");
    expect(v.status).toBe("fail");
    const trace = readTrace(v.counterexample!);
    expect(trace.steps.map((s) => s.step.action.name)).toEqual(expect.arrayContaining(["host_force_reclaim_page_guest", "start_teardown_vm"]));
    expect(replay(trace, { variant: POISON_BLOCKS }).violations.map((x) => x.property)).toEqual(["teardown-completes"]);
    // On the real model the same path is not doomed: finalize goes through.
    expect(replay(trace).violations).toEqual([]);
  });

  it("dying-vm-is-finalized fails there with a fair lasso that replays, closes and exports its loop to ITF", () => {
    const v = stuck.verdict("dying-vm-is-finalized");
    expect(v.status).toBe("fail");
    expect(v.message).toMatch(/^vm 0 stays DYING forever/);
    const trace = readTrace(v.counterexample!);
    expect(trace.loop).toBeDefined();
    const r = replay(trace, { variant: POISON_BLOCKS });
    expect(r.loopCloses).toBe(true);
    expect(r.violations.map((x) => [x.property, x.step])).toEqual([["dying-vm-is-finalized", trace.violation!.step]]);
    const steps = trace.steps.map((s) => s.step);
    expect(steps[trace.violation!.step].action.name).toBe("start_teardown_vm");

    const itf = JSON.parse(formatItf(r, traceStates(r.world, steps, POISON_BLOCKS))) as { loop: number; states: unknown[] };
    const n = trace.steps.length;
    expect(itf.loop).toBe(trace.loop! < n ? trace.loop! + 1 : n);
    expect((itf.states as unknown[]).length).toBe(n + 1);
  });

  it("a lasso whose loop does not close is reported, and claims nothing", () => {
    const trace = readTrace(stuck.verdict("dying-vm-is-finalized").counterexample!);
    const open = parseTrace({ ...traceToJson(trace), loop: 0 }, "open.json");
    const r = replay(open, { variant: POISON_BLOCKS });
    expect(r.loopCloses).toBe(false);
    expect(r.ok).toBe(false);
    expect(r.violations.filter((x) => x.property === "dying-vm-is-finalized")).toEqual([]);
  });
});

describe("replaying a lasso with a cycle", () => {
  // A VM dying with a poisoned entry, then the host shares pfn 3 with the hyp and takes it back.
  const lasso = parseTrace({
    format: "pkvm-trace/1",
    config: MINI,
    steps: [
      { action: "init_vm", args: { vm: 0, pfn: 1 } },
      { action: "init_vcpu", args: { vm: 0, vcpu: 0, pfn: 2 } },
      { action: "vcpu_load", args: { vm: 0, vcpu: 0 } },
      { action: "host_donate_guest", args: { vm: 0, pfn: 3, gfn: 0 } },
      { action: "host_force_reclaim_page_guest", args: { pfn: 3 } },
      { action: "vcpu_put", args: {} },
      { action: "start_teardown_vm", args: { vm: 0 } },
      { action: "host_share_hyp", args: { pfn: 3 } },
      { action: "host_unshare_hyp", args: { pfn: 3 } },
    ],
    loop: 7,
  }, "lasso.json");

  it("violates dying-vm-is-finalized where finalize is refused all along the cycle", () => {
    const r = replay(lasso, { variant: POISON_BLOCKS });
    expect(r.loopCloses).toBe(true);
    expect(r.violations.map((v) => [v.property, v.step, v.finding.message])).toEqual([
      ["dying-vm-is-finalized", 6, "vm 0 stays DYING forever: it holds from step 6 on and the cycle of steps 7..8, fair to the host's calls, repeats forever"],
    ]);
  });

  it("claims nothing on the real model: finalize stays enabled on the cycle and is never taken, which is not fair", () => {
    const r = replay(lasso);
    expect(r.loopCloses).toBe(true);
    expect(r.violations).toEqual([]);
  });
});

describe("the trace's loop", () => {
  const base = { format: "pkvm-trace/1", config: "tiny", steps: [{ action: "vcpu_put", args: {} }] };

  it("is optional, and written back as read", () => {
    expect(parseTrace(base, "t.json").loop).toBeUndefined();
    expect(traceToJson(parseTrace({ ...base, loop: 1 }, "t.json")).loop).toBe(1);
  });

  it("must be a step index up to the number of steps", () => {
    expect(() => parseTrace({ ...base, loop: 2 }, "t.json")).toThrow("t.json: loop: expected a step index from 0 to 1 (the number of steps)");
    expect(() => parseTrace({ ...base, loop: -1 }, "t.json")).toThrow("t.json: loop:");
  });
});
