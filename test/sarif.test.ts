// `check --sarif`: the SARIF 2.1.0 log of real engine runs, validated against the standard (see
// sarif-validators.ts: the schema, the Multitool's SARIF rules and GitHub's). The validators are
// first shown to reject broken logs, so that a pass means something.

import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { parseWorldConfig } from "../model/config.js";
import { PROPERTIES, propertyById } from "../properties/registry.js";
import { readBaseline } from "../src/check/baseline.js";
import type { EngineReport } from "../src/check/report.js";
import { runBfs } from "../src/check/run-bfs.js";
import { resolveConfig } from "../src/configs.js";
import { sarifLog } from "../src/report/sarif.js";
import { expectValidSarif, multitoolErrors, sarifSchemaErrors as schemaErrors } from "./sarif-validators.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TMP = mkdtempSync(join(tmpdir(), "pkvm-sarif-"));
const expectValid = expectValidSarif;

type Log = {
  runs: {
    tool: { driver: { rules: { id: string }[] } };
    results: Record<string, any>[];
    invocations: { toolExecutionNotifications: { message: { text: string } }[] }[];
    properties: Record<string, any>;
  }[];
};

const TINY = resolveConfig("tiny");
const bfs = (o: Partial<Parameters<typeof runBfs>[1]> & { out: string }) =>
  runBfs(TINY, { properties: PROPERTIES, keepGoing: false, allowInternal: false, baseline: [], progress: false, symmetry: true, workers: 1, ...o });

describe("SARIF validators", { timeout: 300_000 }, () => {
  it("reject a broken log: all three, so that their passes mean something", () => {
    const broken = { version: "2.1.0", runs: [{ tool: { driver: {} }, results: [{ ruleId: "x", level: "fatal", message: {} }] }] };
    expect(schemaErrors(broken)).toEqual(expect.arrayContaining(["/runs/0/tool/driver must have required property 'name'", "/runs/0/results/0/level must be equal to one of the allowed values"]));
    expect(multitoolErrors({ version: "2.1.0", runs: [{ tool: { driver: {} }, results: [] }] }, "broken")).toEqual([expect.stringMatching(/^JSON1002 runs\[0\]\.tool\.driver name/)]);
    // A result without a location, a rule without full description and help: what GitHub rejects.
    const bare = { version: "2.1.0", runs: [{ tool: { driver: { name: "x", rules: [{ id: "r", shortDescription: { text: "s" } }] } }, results: [{ ruleId: "r", message: { text: "m" } }] }] };
    expect(multitoolErrors(bare, "bare")).toEqual([]);
    expect(multitoolErrors(bare, "bare", "Gh")).toEqual(expect.arrayContaining([expect.stringMatching(/^GH1015 /), expect.stringMatching(/^GH2012 /)]));
  });
});

describe("check --sarif", { timeout: 300_000 }, () => {
  it("a new violation: one result, its counterexample's violating step as the location, the trace summarised", async () => {
    const out = join(TMP, "red");
    const report = await bfs({ out });
    const cex = report.verdicts.find((v) => v.status === "fail")!.counterexample!;
    const log = sarifLog([report], { properties: PROPERTIES, strict: false, exitCode: 1, root: TMP }) as Log;
    expectValid(log, "red");
    const [run] = log.runs;
    expect(run.results).toHaveLength(1);
    const [res] = run.results;
    expect(res).toMatchObject({ ruleId: "no-hyp-panic", level: "error", kind: "fail" });
    expect(run.tool.driver.rules[res.ruleIndex].id).toBe("no-hyp-panic");
    const loc = res.locations[0].physicalLocation;
    expect(loc.artifactLocation).toEqual({ uri: `red/${basename(cex)}`, uriBaseId: "%SRCROOT%" });
    expect((log as any).runs[0].originalUriBaseIds["%SRCROOT%"].uri).toBe(`${pathToFileURL(TMP).href}/`);
    expect(readFileSync(cex, "utf8").split("\n")[loc.region.startLine - 1]).toContain('"action":"host_test_clear_young_guest"');
    expect(res.message.text).toBe(
      "no-hyp-panic violated at step 1, host_test_clear_young_guest(vm=1, gfn=2, nr_pages=1, mkold=true) (bfs on tiny): " +
        "host_test_clear_young_guest(vm=1, gfn=2, nr_pages=1, mkold=true) made the hypervisor panic. " +
        `Counterexample: 2 steps from the initial state; replay it with \`pkvm-check replay ${cex} --diff\`.`,
    );
    expect(res.suppressions).toBeUndefined();
    expect(run.invocations[0]).toMatchObject({ executionSuccessful: true, exitCode: 1 });
    expect(run.properties.checked[0]).toMatchObject({ engine: "bfs", config: "tiny", violated: ["no-hyp-panic"] });
  });

  it("a known finding: a result suppressed by the baseline, unless --strict", async () => {
    const baseline = readBaseline(join(ROOT, "findings/known-findings.json"));
    const report = await bfs({ out: join(TMP, "known"), baseline, properties: [propertyById("no-hyp-panic")!] });
    expect(report.verdicts).toMatchObject([{ property: "no-hyp-panic", status: "known", known: "test-clear-young-erange-panic" }]);
    const lenient = sarifLog([report], { properties: [propertyById("no-hyp-panic")!], strict: false, exitCode: 0, root: TMP }) as Log;
    expectValid(lenient, "known");
    expect(lenient.runs[0].results[0]).toMatchObject({
      ruleId: "no-hyp-panic",
      suppressions: [{ kind: "external", status: "accepted", justification: "known finding test-clear-young-erange-panic in the baseline" }],
      properties: { knownFinding: "test-clear-young-erange-panic" },
    });
    const strict = sarifLog([report], { properties: [propertyById("no-hyp-panic")!], strict: true, exitCode: 1, root: TMP }) as Log;
    expect(strict.runs[0].results[0].suppressions).toBeUndefined();
  });

  it("a green run still records what was checked: rules, engines, configs, states, proofs", async () => {
    const properties = PROPERTIES.filter((p) => p.id !== "no-hyp-panic");
    const mini = { name: "mini", config: parseWorldConfig({ pages: 3, hypPages: [0], vms: [{ protected: true, vcpus: 1, gfns: 1 }] }) };
    const complete = await runBfs(mini, { properties, out: join(TMP, "green"), keepGoing: false, allowInternal: false, baseline: [], progress: false, symmetry: true, workers: 1 });
    const bounded = await bfs({ out: join(TMP, "green"), properties, maxStates: 200 });
    const log = sarifLog([complete, bounded], { properties, strict: false, exitCode: 0, root: TMP }) as Log;
    expectValid(log, "green");
    const [run] = log.runs;
    expect(run.results).toEqual([]);
    expect(run.tool.driver.rules.map((r) => r.id)).toEqual(properties.map((p) => p.id));
    const ids = properties.map((p) => p.id);
    expect(run.properties.checked).toMatchObject([
      { engine: "bfs", config: "mini", complete: true, proved: ids, bounded: [], violated: [] },
      { engine: "bfs", config: "tiny", complete: false, stop: "max-states", proved: [], bounded: ids },
    ]);
    expect(run.properties.statesExplored).toBe((complete.stats.states as number) + (bounded.stats.states as number));
    expect(run.properties.proofs).toBe(ids.length);
    expect(run.invocations[0].toolExecutionNotifications.map((n) => n.message.text)).toContain(
      "bfs on tiny: INCOMPLETE: stopped by max-states; no violation found in what was covered is not a proof",
    );
  });

  it("the gate's other results, clean under GitHub's rules: a known finding and an unproved proof located at the property's source, a counterexample outside the project under a base of its own", async () => {
    const baseline = readBaseline(join(ROOT, "findings/known-findings.json"));
    const known = await bfs({ out: join(TMP, "gate"), baseline, properties: [propertyById("no-hyp-panic")!] });
    const outside = mkdtempSync(join(tmpdir(), "pkvm-sarif-out-"));
    const red = await bfs({ out: outside });
    const cex = red.verdicts.find((v) => v.status === "fail")!.counterexample!;
    const smt: EngineReport = {
      engine: "smt",
      config: "every memory size, shape of default",
      complete: false,
      stop: "obligations not proved",
      stats: { obligations: 2, proved: 1, cti: 0, unknown: 1 },
      verdicts: [{
        property: "host-cannot-access-guest",
        status: "unproved",
        message: "not proved: 1 of 2 obligations unknown (ghost-owners at host_unshare_guest(vm=0))",
        open: [{ transition: "host_unshare_guest(vm=0)", goal: "ghost-owners", verdict: "unknown", reason: "rlimit: spent its 15000000 units" }],
      }],
      warnings: [],
    };
    const log = sarifLog([known, red, smt], { properties: PROPERTIES, strict: false, exitCode: 1, root: ROOT }) as any;
    expectValid(log, "gate");
    const [run] = log.runs;
    const byRule = (id: string) => run.results.find((r: any) => r.ruleId === id);
    expect(byRule("no-hyp-panic").locations[0].physicalLocation.artifactLocation).toEqual({ uri: "properties/no-hyp-panic.ts", uriBaseId: "%SRCROOT%" });
    const unproved = byRule("host-cannot-access-guest");
    expect(unproved.message.text).toContain("Open obligations: ghost-owners over host_unshare_guest(vm=0): unknown (rlimit: spent its 15000000 units)");
    expect(unproved.properties.openObligations).toEqual(smt.verdicts[0].open);
    const fail = run.results.find((r: any) => r.properties.status === "fail").locations[0].physicalLocation.artifactLocation;
    expect(fail.uri).toBe(basename(cex));
    expect(run.originalUriBaseIds[fail.uriBaseId].uri).toBe(`${pathToFileURL(outside).href}/`);
    const rule = run.tool.driver.rules.find((r: any) => r.id === "host-cannot-access-guest");
    expect(rule.fullDescription.text).toMatch(/^Invariant 9: the host never touches a page that the hyp owns/);
    expect(rule.help.text).toContain("pkvm-check check --property host-cannot-access-guest");
  });

  it("documents every property's rule by its module's header comment", () => {
    const log = sarifLog([], { properties: PROPERTIES, strict: false, exitCode: 0, root: ROOT }) as any;
    for (const rule of log.runs[0].tool.driver.rules) {
      expect(rule.fullDescription.text, rule.id).toMatch(/^[A-Z][^\n]{40,}$/);
      expect(rule.help.text.startsWith(rule.fullDescription.text), rule.id).toBe(true);
    }
  });

  it("a corpus trace that violates on the real model: located at its file's first line (no step recorded)", () => {
    const corpus: EngineReport = {
      engine: "corpus",
      config: "1 traces",
      complete: true,
      stats: { traces: 1 },
      verdicts: [{ property: "(none)", status: "fail", counterexample: join(ROOT, "test/fixtures/pass.json"), message: "replays with a violation" }],
      warnings: [],
    };
    const log = sarifLog([corpus], { properties: PROPERTIES, strict: false, exitCode: 1, root: TMP }) as Log;
    expectValid(log, "corpus");
    expect(log.runs[0].results[0].ruleId).toBe("(none)");
    expect(log.runs[0].results[0].locations[0].physicalLocation.region).toEqual({ startLine: 1 });
  });
});
