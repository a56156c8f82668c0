// The parallel search (--workers): the same distinct states, transitions and first
// counterexample lengths as the one-thread search, on the real model and under a seeded fault,
// with and without symmetry.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROPERTIES } from "../properties/registry.js";
import { readBaseline } from "../src/check/baseline.js";
import { runBfs, type BfsRunOptions } from "../src/check/run-bfs.js";
import { resolveConfig } from "../src/configs.js";
import { maskRealModelFindings } from "../src/faults/known.js";
import { faultByName } from "../src/faults/registry.js";

const OUT = mkdtempSync(join(tmpdir(), "pkvm-workers-"));
const BASELINE = readBaseline("findings/known-findings.json");
const base: BfsRunOptions = { properties: PROPERTIES, out: OUT, keepGoing: true, allowInternal: false, baseline: BASELINE, progress: false, symmetry: true, workers: 1 };
const SMALL = { name: "small", config: resolveConfig({ pages: 3, blockPages: 1, maxShareCount: 1, vms: [{ protected: true, vcpus: 1, gfns: 1 }, { protected: false, vcpus: 1, gfns: 1 }] }).config };

const figures = (r: Awaited<ReturnType<typeof runBfs>>) => ({
  states: r.stats.states,
  unreduced: r.stats.unreducedStates,
  transitions: r.stats.transitions,
  depth: r.stats.depth,
  verdicts: r.verdicts.map((v) => `${v.property}:${v.status}:${v.steps ?? ""}`),
});

describe("bfs on worker threads", { timeout: 600_000 }, () => {
  for (const symmetry of [false, true]) {
    it(`finds what one thread finds on the real model (symmetry ${symmetry})`, async () => {
      const one = await runBfs(SMALL, { ...base, symmetry });
      const two = await runBfs(SMALL, { ...base, symmetry, workers: 2 });
      expect(two.complete).toBe(true);
      expect(two.stats.workers).toBe(2);
      expect(figures(two)).toEqual(figures(one));
    });
  }

  it("stops on a seeded fault's violation at the same depth", async () => {
    const fault = faultByName("B1-unshare-hyp-no-hyp-check")!;
    const o = { ...base, keepGoing: false, properties: maskRealModelFindings(PROPERTIES, BASELINE), variant: fault.variant, fault: fault.name };
    const failing = (r: Awaited<ReturnType<typeof runBfs>>) => r.verdicts.filter((v) => v.status === "fail").map((v) => v.steps);
    const one = await runBfs(SMALL, o);
    const two = await runBfs(SMALL, { ...o, workers: 2 });
    expect(two.stop).toBe("violation");
    // Which property of that level is reported first may differ; the shortest length may not.
    expect(failing(two)).toEqual(failing(one));
    expect(failing(one)).toHaveLength(1);
  });
});
