// What a proof claims and what it rests on: its scope (src/smt/scope.ts), the non-vacuity of its
// hypotheses on every transition region (src/smt/vacuity.ts), and its obligations written as
// SMT-LIB and re-checked by the solvers on PATH (src/smt/certificates.ts, src/smt/recheck.ts).

import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { smtlibWriter } from "../src/smt/certificates.js";
import { checkJsonErrors } from "./check-json-schema.js";
import { Prover } from "../src/smt/prove.js";
import { recheck, solversPresent, summary } from "../src/smt/recheck.js";
import { proofScope, proofStanding } from "../src/smt/scope.js";
import { curryArrays } from "../src/smt/smtlib-curry.js";
import { nonVacuity } from "../src/smt/vacuity.js";

const HEADLINE = ["host-cannot-access-guest", "guest-cannot-access-host"];

describe("proof scope", () => {
  it("names the shape, the actions left out and why, and what closed each obligation", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pkvm-smtlib-"));
    const certificates = smtlibWriter(dir);
    // A few of the isolation invariant's members, taken on their own: a quick proof with all three kinds of closing.
    const p = await Prover.create({ goals: ["encodings", "leaf-encoding", "whole-blocks"], assumeInvariants: true, vms: 1, vcpuSlots: 1, actions: ["host_share_guest", "guest_read"], onCheck: certificates.onCheck });
    const proof = await p.run();
    const scope = proofScope(proof, [...HEADLINE, "no-hyp-panic"], HEADLINE, false);
    expect(scope.shape).toEqual({ vmSlots: 1, vcpusPerVm: 1, blockPages: 2, memcache: false, cpus: 1 });
    expect(scope.actions.covered).toEqual(["host_share_guest", "guest_read"]);
    const why = Object.fromEntries(scope.actions.excluded.map((e) => [e.action, e.reason]));
    expect(why.host_topup_memcache).toMatch(/not encoded/);
    expect(why.hyp_donate_host).toMatch(/hyp-internal/);
    const o = scope.obligations;
    expect(o.total).toBe(proof.obligations.length);
    expect(o.z3 + o.frameRule + o.constantFolding + o.cti + o.unknown).toBe(o.total);
    // guest_read changes no state: the frame rule keeps every state goal over it.
    expect(proof.obligations.filter((x) => x.transition === "guest_read" && x.kind === "invariant").every((x) => x.closedBy === "frame")).toBe(true);
    expect(o.z3).toBeGreaterThan(0);
    const report = { engine: "smt", config: "c", complete: true, stats: {}, verdicts: [], obligations: proof.obligations, scope, warnings: [] };
    expect(checkJsonErrors(JSON.parse(JSON.stringify(report)), "engineReport")).toEqual([]);

    // Every z3 check became a file whose header carries z3's answer and the model's hash.
    const files = readdirSync(dir);
    expect(files.length).toBe(Object.values(certificates.written).reduce((a, b) => a + b, 0));
    const text = readFileSync(join(dir, files[0]), "utf8");
    expect(text).toMatch(/^; z3 answered: (unsat|sat|unknown)$/m);
    expect(text).toMatch(/^; model sha256: [0-9a-f]{64}$/m);
    expect(text.trimEnd().endsWith("(check-sat)")).toBe(true);
  }, 600_000);

  it("list's standing: proved with its scope for the gate's properties, explored only with a reason for the others", () => {
    expect(proofStanding("host-cannot-access-guest")).toMatch(/^proved \(scope: \d VM slots?, .*blockPages \d+, memcache off, 1 CPU/);
    expect(proofStanding("share-consistency")).toMatch(/^explored only \(state form: /);
  });
});

describe("re-check by a second solver", () => {
  it("flags a file where a solver's answer is the opposite of z3's", async () => {
    const solvers = await solversPresent();
    if (solvers.length === 0) return; // neither z3 nor cvc5 installed: proofs:recheck says so
    const dir = mkdtempSync(join(tmpdir(), "pkvm-recheck-"));
    const file = (verdict: string, body: string) => `; z3 answered: ${verdict}\n(set-logic ALL)\n(declare-fun x () Int)\n${body}\n(check-sat)\n`;
    writeFileSync(join(dir, "00001-a-b.smt2"), file("unsat", "(assert (and (> x 1) (< x 0)))"));
    // A planted lie: satisfiable, recorded as unsat.
    writeFileSync(join(dir, "00002-a-b.smt2"), file("unsat", "(assert (> x 1))"));
    writeFileSync(join(dir, "00003-a-b.smt2"), file("unknown", "(assert (> x 1))"));
    const { results, skipped } = await recheck(dir, solvers, 20, 1);
    expect(skipped).toBe(1);
    const { lines, disagreements } = summary(results, solvers);
    expect(disagreements).toBe(solvers.length);
    expect(lines.filter((l) => l.includes("DISAGREE 00002-a-b.smt2"))).toHaveLength(solvers.length);
  }, 120_000);
});

describe("non-vacuity", () => {
  it("every region of a transition is witnessed by a replayed state, or shown never given, under the gate's invariant", async () => {
    const r = await nonVacuity({ vms: 1, vcpuSlots: 1, blockPages: 2, actions: ["host_share_guest"] });
    expect(r.filter((x) => x.mismatch)).toEqual([]);
    expect(r.filter((x) => x.verdict === "unknown")).toEqual([]);
    const by = Object.fromEntries(r.map((x) => [x.region, x.verdict]));
    expect(by["branch 0"]).toBe("witnessed");
    expect(by["no change, returns -EPERM"]).toBe("witnessed");
    expect(r.find((x) => x.region === "branch 0")!.ret).toBe("0");
  }, 600_000);
});

describe("SMT-LIB for cvc5", () => {
  it("curries z3's multi-index arrays: sorts, selects, stores and constant arrays", () => {
    const z3Text = [
      "(declare-fun b () (Array Int Int Int))",
      "(assert (= (select (store b 1 2 7) 1 2) ((as const (Array Int Int Int)) 0)))",
    ].join("\n");
    expect(curryArrays(z3Text).trim().split("\n")).toEqual([
      "(declare-fun b () (Array Int (Array Int Int)))",
      "(assert (= (select (select (store b 1 (store (select b 1) 2 7)) 1) 2) ((as const (Array Int (Array Int Int))) ((as const (Array Int Int)) 0))))",
    ]);
  });
});
