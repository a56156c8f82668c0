import { describe, expect, it } from "vitest";
import { InputError } from "../model/config.js";
import { PANIC } from "../model/errno.js";
import { Contents, PageState } from "../model/state.js";
import { finding, type Property } from "../properties/property.js";
import { PROPERTIES } from "../properties/registry.js";
import type { ModelVariant } from "../src/engine.js";
import { formatReplay } from "../src/report-text.js";
import { replay, replayToJson, selectProperties } from "../src/replay.js";
import { parseTrace, readTrace } from "../src/trace.js";

const fixture = (name: string) => readTrace(new URL(`fixtures/${name}`, import.meta.url).pathname);

/** host_share_hyp panics: an adversarial action that no-hyp-panic must catch. */
const PANICKY: ModelVariant = { transitions: { host_share_hyp: () => PANIC } };

const SHARE_TWICE = parseTrace(
  {
    format: "pkvm-trace/1",
    config: "tiny",
    steps: [
      { action: "host_read", args: { pfn: 1 }, expect: "0" },
      { action: "host_share_hyp", args: { pfn: 1 }, expect: "0" },
      { action: "host_share_hyp", args: { pfn: 1 }, expect: "-EPERM" },
    ],
  },
  "share-twice.json",
);

describe("replay", () => {
  it("runs a legal trace with every property and every expect holding", () => {
    const r = replay(fixture("pass.json"));
    expect(r.violations.map((v) => `${v.property}: ${v.finding.message}`)).toEqual([]);
    expect(r.steps.every((s) => s.match)).toBe(true);
    expect(r.ok).toBe(true);
    expect(r.steps).toHaveLength(14);
  });

  it("marks a return that differs from its expect", () => {
    const r = replay(fixture("mismatch.json"));
    expect(r.steps.map((s) => [s.ret, s.match])).toEqual([
      ["0", true],
      ["-EPERM", false],
    ]);
    expect(r.ok).toBe(false);
    expect(formatReplay(r)).toMatch(/host_donate_hyp\(pfn=1, nr_pages=1\)\s+-EPERM\s+expected 0\s+<-- MISMATCH/);
  });

  it("reports a property violated by a faulty model, with the state of the page it names", () => {
    const r = replay(SHARE_TWICE, { variant: PANICKY });
    expect(r.steps.map((s) => s.ret)).toEqual(["0", "PANIC", "PANIC"]);
    // Reported once, at the first step that violates it.
    expect(r.violations.map((v) => [v.property, v.step])).toEqual([["no-hyp-panic", 1]]);
    const { message, pages } = r.violations[0].finding;
    expect(message).toContain("host_share_hyp");
    expect(pages).toEqual([1]);
    const text = formatReplay(r);
    expect(text).toContain(`VIOLATION no-hyp-panic at step 1: ${message}`);
    expect(text).toContain(
      "pfn 1: host OWNED, hyp NOPAGE, host_share_guest_count 0, refcount 0, host stage-2 IDMAP RWX, contents HOST",
    );
    expect(text).toContain("share-twice.json: FAILED (2 mismatched returns, 1 property violated)");
  });

  it("checks only the selected properties", () => {
    expect(replay(SHARE_TWICE, { variant: PANICKY, properties: [] }).violations).toEqual([]);
    expect(selectProperties(["no-hyp-panic"]).map((p) => p.id)).toEqual(["no-hyp-panic"]);
    expect(selectProperties()).toBe(PROPERTIES);
    expect(() => selectProperties(["no-such-property"])).toThrow(InputError);
  });

  it("checks the initial state, reported as step -1, and shows the state before a step", () => {
    const hostOwnsPage1: Property = {
      id: "test-host-owns-1",
      description: "pfn 1 stays host OWNED",
      checkState: (s) => (s.hostState(1) === PageState.OWNED ? null : finding("pfn 1 left the host", { pages: [1] })),
    };
    const initiallyDirty: Property = {
      id: "test-zero",
      description: "every page is zero",
      checkState: (s) => (s.contents(2) === Contents.ZERO ? null : finding("pfn 2 holds data", { pages: [2] })),
    };
    const guestFrame: Property = {
      id: "test-frame",
      description: "names a guest frame",
      checkStep: (_pre, step) => (step.action.name === "host_share_hyp" ? finding("looked at a frame", { frames: [[0, 1]] }) : null),
    };
    const r = replay(SHARE_TWICE, { properties: [hostOwnsPage1, initiallyDirty, guestFrame] });
    expect(r.violations.map((v) => [v.property, v.step])).toEqual([
      ["test-zero", -1],
      ["test-host-owns-1", 1],
      ["test-frame", 1],
    ]);
    const text = formatReplay(r);
    expect(text).toContain("VIOLATION test-zero in the initial state: pfn 2 holds data");
    expect(text).toContain("pfn 1: host SHARED_OWNED, hyp SHARED_BORROWED");
    expect(text).toContain("vm 0 gfn 1: absent (VM ABSENT)");
  });

  it("prints the replay --json shape of interface.md, with the pages the finding names", () => {
    const r = replay(SHARE_TWICE, { variant: PANICKY });
    const t = replayToJson(r);
    expect(t).toEqual({
      file: "share-twice.json",
      ok: false,
      steps: [
        { index: 0, action: "host_read", args: { pfn: 1 }, ret: "0", expect: "0", match: true },
        { index: 1, action: "host_share_hyp", args: { pfn: 1 }, ret: "PANIC", expect: "0", match: false },
        { index: 2, action: "host_share_hyp", args: { pfn: 1 }, ret: "PANIC", expect: "-EPERM", match: false },
      ],
      violations: [expect.objectContaining({ property: "no-hyp-panic", step: 1, message: r.violations[0].finding.message, pages: [1] })],
    });
  });
});
