// `check --json` against its JSON Schema (schemas/check-report.schema.json), with ajv: the
// README's example, and the proofs' reports as the prover makes them; and the gate's verdict on
// proofs: one that is not complete is "unproved", which fails the gate unless --allow-unproved.
// (cli.test.ts validates the CLI's own output; gate.slow.test.ts the whole gate's.)

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { failed, type EngineReport } from "../src/check/report.js";
import { proofVerdict } from "../src/check/run-smt.js";
import { closure, Prover, type Obligation } from "../src/smt/prove.js";
import { checkJsonErrors } from "./check-json-schema.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));


describe("the check --json schema", () => {
  it("rejects what check never prints, so that a pass means something", () => {
    expect(checkJsonErrors({ version: 2, ok: true, reports: [] })).toEqual(["/version must be equal to constant"]);
    expect(checkJsonErrors({ version: 1, ok: true, reports: [{ engine: "bfs", config: "tiny", complete: true, stats: {}, verdicts: [{ property: "x", status: "ok" }], warnings: [] }] }))
      .toEqual(["/reports/0/verdicts/0/status must be equal to one of the allowed values"]);
  });

  it("accepts the README's example", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const example = /`check --json` prints one document[\s\S]*?```json\n([\s\S]*?)```/.exec(readme)![1];
    expect(checkJsonErrors(JSON.parse(example))).toEqual([]);
  });

  it("describes the prover's obligations, a counterexample to induction included", async () => {
    const p = await Prover.create({ goals: ["no-hyp-panic"], assumeInvariants: true, rlimit: 2_000_000, timeoutMs: 600_000 });
    const obligations = await p.transition("host_test_clear_young_guest");
    expect(obligations.map((o) => o.verdict)).toContain("cti");
    const report: EngineReport = {
      engine: "smt",
      config: "every memory size, shape of default",
      complete: false,
      stats: { obligations: obligations.length },
      verdicts: [proofVerdict("no-hyp-panic", obligations, [])],
      obligations,
      warnings: [],
    };
    expect(checkJsonErrors(JSON.parse(JSON.stringify(report)), "engineReport")).toEqual([]);
  }, 300_000);
});

describe("a proof's verdict", () => {
  const goals = closure(["host-cannot-access-guest"]);
  const ob = (goal: string, verdict: Obligation["verdict"], reason?: string): Obligation => ({ transition: "host_unshare_guest(vm=0)", goal, kind: "invariant", verdict, ms: 1, rlimit: 1, ...(reason ? { reason } : {}) });
  const all = goals.map((g) => ob(g, "proved"));
  const report = (o: readonly Obligation[]): EngineReport => ({ engine: "smt", config: "c", complete: true, stats: {}, verdicts: [proofVerdict("host-cannot-access-guest", o, [])], warnings: [] });

  it("is pass when every obligation of the goal and its hypotheses is proved", () => {
    expect(proofVerdict("host-cannot-access-guest", all, []).status).toBe("pass");
    expect(failed(report(all), { strict: false, allowUnproved: false })).toBe(false);
  });

  it("is unproved, naming the open obligations, when one is unknown: the gate fails unless --allow-unproved", () => {
    const open = all.map((o) => (o.goal === "ghost-owners" ? ob("ghost-owners", "unknown", "rlimit: spent its 10 units") : o));
    const v = proofVerdict("host-cannot-access-guest", open, []);
    expect(v).toMatchObject({ status: "unproved", open: [{ transition: "host_unshare_guest(vm=0)", goal: "ghost-owners", verdict: "unknown", reason: "rlimit: spent its 10 units" }] });
    expect(v.message).toMatch(/^not proved: 1 of \d+ obligations unknown \(ghost-owners at host_unshare_guest\(vm=0\)\)$/);
    expect(failed(report(open), { strict: false, allowUnproved: false })).toBe(true);
    expect(failed(report(open), { strict: false, allowUnproved: true })).toBe(false);
  });

  it("is unproved on a counterexample to induction, never ok", () => {
    const cti = all.map((o) => (o.goal === "guest-owned-leaves" ? ob("guest-owned-leaves", "cti") : o));
    expect(proofVerdict("host-cannot-access-guest", cti, [])).toMatchObject({ status: "unproved", message: expect.stringMatching(/^not proved: counterexample to induction of guest-owned-leaves/) });
    expect(failed(report(cti), { strict: false, allowUnproved: false })).toBe(true);
  });
});
