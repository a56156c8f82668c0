// `check --sarif`: the SARIF 2.1.0 log of real engine runs, validated twice against the standard:
// by ajv against the SARIF 2.1.0 JSON schema, and by Microsoft's SARIF Multitool (`validate`,
// the schema plus the SARIF rules). Both validators are first shown to reject broken logs, so
// that a pass means something.

import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import formats from "ajv-formats";
import { beforeAll, describe, expect, it } from "vitest";
import { parseWorldConfig } from "../model/config.js";
import { PROPERTIES, propertyById } from "../properties/registry.js";
import { readBaseline } from "../src/check/baseline.js";
import type { EngineReport } from "../src/check/report.js";
import { runBfs } from "../src/check/run-bfs.js";
import { resolveConfig } from "../src/configs.js";
import { sarifLog } from "../src/report/sarif.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MULTITOOL = join(ROOT, "node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");
const TMP = mkdtempSync(join(tmpdir(), "pkvm-sarif-"));

/**
 * The SARIF 2.1.0 schema the Multitool validates with, as the package ships it: a .NET resource
 * inside the binary, a little-endian byte count followed by the JSON text.
 */
function shippedSchema(): object {
  const bin = readFileSync(MULTITOOL);
  const title = bin.indexOf('"title": "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"');
  expect(title, "the SARIF 2.1.0 schema inside the Multitool").toBeGreaterThan(0);
  const open = bin.lastIndexOf("{", title);
  return JSON.parse(bin.subarray(open, open + bin.readUInt32LE(open - 4)).toString("utf8"));
}

let schemaErrors: (log: unknown) => string[];

beforeAll(() => {
  expect(existsSync(MULTITOOL), `${MULTITOOL}: npm install @microsoft/sarif-multitool`).toBe(true);
  chmodSync(MULTITOOL, 0o755); // the package's postinstall does this, when install scripts run
  const ajv = new Ajv2020({ allErrors: true, strict: false }); // strict concerns schema authoring, not validation
  formats.default(ajv); // a CommonJS module: its plugin is also its `default`
  const validate = ajv.compile(shippedSchema());
  schemaErrors = (log) => (validate(log) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
});

/** The Multitool's error-level findings on a log (its warnings are advice, e.g. an information URI). */
function multitoolErrors(log: unknown, name: string): string[] {
  const file = join(TMP, `${name}.sarif`);
  const out = join(TMP, `${name}.validation.sarif`);
  writeFileSync(file, JSON.stringify(log));
  const r = spawnSync(MULTITOOL, ["validate", file, "-o", out, "--log", "ForceOverwrite"], { encoding: "utf8", timeout: 120_000 });
  expect(r.status, r.stdout + r.stderr).toBe(0);
  const results = JSON.parse(readFileSync(out, "utf8")).runs[0].results as { ruleId: string; level?: string; message: { arguments?: string[] } }[];
  return results.filter((x) => x.level === "error").map((x) => `${x.ruleId} ${x.message.arguments?.join(" ")}`);
}

function expectValid(log: unknown, name: string) {
  expect(schemaErrors(log)).toEqual([]);
  expect(multitoolErrors(log, name)).toEqual([]);
}

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

describe("SARIF validators", { timeout: 60_000 }, () => {
  it("reject a broken log: both of them, so that their passes mean something", () => {
    const broken = { version: "2.1.0", runs: [{ tool: { driver: {} }, results: [{ ruleId: "x", level: "fatal", message: {} }] }] };
    expect(schemaErrors(broken)).toEqual(expect.arrayContaining(["/runs/0/tool/driver must have required property 'name'", "/runs/0/results/0/level must be equal to one of the allowed values"]));
    expect(multitoolErrors({ version: "2.1.0", runs: [{ tool: { driver: {} }, results: [] }] }, "broken")).toEqual([expect.stringMatching(/^JSON1002 runs\[0\]\.tool\.driver name/)]);
  });
});

describe("check --sarif", { timeout: 60_000 }, () => {
  it("a new violation: one result, its counterexample's violating step as the location, the trace summarised", async () => {
    const out = join(TMP, "red");
    const report = await bfs({ out });
    const cex = report.verdicts.find((v) => v.status === "fail")!.counterexample!;
    const log = sarifLog([report], { properties: PROPERTIES, strict: false, exitCode: 1 }) as Log;
    expectValid(log, "red");
    const [run] = log.runs;
    expect(run.results).toHaveLength(1);
    const [res] = run.results;
    expect(res).toMatchObject({ ruleId: "no-hyp-panic", level: "error", kind: "fail" });
    expect(run.tool.driver.rules[res.ruleIndex].id).toBe("no-hyp-panic");
    const loc = res.locations[0].physicalLocation;
    expect(loc.artifactLocation.uri).toBe(pathToFileURL(cex).href);
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
    const lenient = sarifLog([report], { properties: [propertyById("no-hyp-panic")!], strict: false, exitCode: 0 }) as Log;
    expectValid(lenient, "known");
    expect(lenient.runs[0].results[0]).toMatchObject({
      ruleId: "no-hyp-panic",
      suppressions: [{ kind: "external", status: "accepted", justification: "known finding test-clear-young-erange-panic in the baseline" }],
      properties: { knownFinding: "test-clear-young-erange-panic" },
    });
    const strict = sarifLog([report], { properties: [propertyById("no-hyp-panic")!], strict: true, exitCode: 1 }) as Log;
    expect(strict.runs[0].results[0].suppressions).toBeUndefined();
  });

  it("a green run still records what was checked: rules, engines, configs, states, proofs", async () => {
    const properties = PROPERTIES.filter((p) => p.id !== "no-hyp-panic");
    const mini = { name: "mini", config: parseWorldConfig({ pages: 3, hypPages: [0], vms: [{ protected: true, vcpus: 1, gfns: 1 }] }) };
    const complete = await runBfs(mini, { properties, out: join(TMP, "green"), keepGoing: false, allowInternal: false, baseline: [], progress: false, symmetry: true, workers: 1 });
    const bounded = await bfs({ out: join(TMP, "green"), properties, maxStates: 200 });
    const log = sarifLog([complete, bounded], { properties, strict: false, exitCode: 0 }) as Log;
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

  it("a corpus trace that violates on the real model: located at its file, without a step line", () => {
    const corpus: EngineReport = {
      engine: "corpus",
      config: "1 traces",
      complete: true,
      stats: { traces: 1 },
      verdicts: [{ property: "(none)", status: "fail", counterexample: join(ROOT, "test/fixtures/pass.json"), message: "replays with a violation" }],
      warnings: [],
    };
    const log = sarifLog([corpus], { properties: PROPERTIES, strict: false, exitCode: 1 }) as Log;
    expectValid(log, "corpus");
    expect(log.runs[0].results[0].ruleId).toBe("(none)");
    expect(log.runs[0].results[0].locations[0].physicalLocation.region).toBeUndefined();
  });
});
