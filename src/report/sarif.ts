// `check --sarif FILE`: the gate's verdicts as SARIF 2.1.0, for CI systems and code-scanning UIs.
// Every property checked is a rule; every violated property of every engine run is a result
// whose location is its counterexample (the line of the violating step) and whose message
// summarises the trace; a known finding is a result suppressed by the baseline (unless
// --strict). A green run is still a full record of what was checked: the run's properties list
// every engine run with its config, its figures, what it proved and what it only bounded.

import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { formatStep } from "../../model/actions.js";
import { MODEL_VERSION } from "../../model/version.js";
import type { Property } from "../../properties/property.js";
import { describeProperty, propertyById } from "../../properties/registry.js";
import type { EngineReport, Verdict } from "../check/report.js";
import { readTrace } from "../trace.js";

export const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

export interface SarifOptions {
  /** The properties the run checked. */
  properties: readonly Property[];
  strict: boolean;
  exitCode: number;
}

/** The package's version, from the nearest package.json of pkvm-check above this module. */
function toolVersion(): string | undefined {
  for (let dir = new URL(".", import.meta.url); ; dir = new URL("..", dir)) {
    const file = new URL("package.json", dir);
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "pkvm-check") return pkg.version;
    }
    if (new URL("..", dir).href === dir.href) return undefined;
  }
}

/** A path as a SARIF URI: relative to the working directory when under it, else a file: URL. */
function uriOf(file: string): string {
  const rel = relative(process.cwd(), resolve(file));
  if (rel.startsWith("..") || isAbsolute(rel)) return pathToFileURL(resolve(file)).href;
  return encodeURI(rel.split(sep).join("/"));
}

/** The 1-based line of steps[step] in a trace file written one step per line, if it is one. */
function stepLine(file: string, step: number): number | undefined {
  const lines = readFileSync(file, "utf8").split("\n");
  const open = lines.indexOf('  "steps": [');
  const line = open + 2 + step;
  return open >= 0 && step >= 0 && lines[line - 1]?.trimStart().startsWith('{"action"') ? line : undefined;
}

function result(r: EngineReport, v: Verdict, ruleIndex: number, strict: boolean): Record<string, unknown> {
  const where = `${r.engine} on ${r.config}`;
  const out: Record<string, unknown> = {
    ruleId: v.property,
    ruleIndex,
    level: "error",
    kind: "fail",
    properties: { engine: r.engine, config: r.config, status: v.status, ...(v.known ? { knownFinding: v.known } : {}) },
  };
  if (!v.counterexample || !existsSync(v.counterexample)) {
    out.message = { text: `${v.property} violated (${where}): ${v.message ?? ""}${v.known ? ` [known finding ${v.known}]` : ""}` };
  } else {
    const t = readTrace(v.counterexample);
    // The step is the trace's own record of this violation; a corpus trace may record none.
    const step = t.violation?.property === v.property ? t.violation.step : undefined;
    const at = step === undefined ? "" : step < 0 ? " in the initial state" : ` at step ${step}, ${formatStep(t.steps[step].step)}`;
    out.message = {
      text: `${v.property} violated${at} (${where}): ${v.message ?? t.violation?.message ?? ""}. ` +
        `Counterexample: ${t.steps.length} steps from the initial state; replay it with \`pkvm-check replay ${v.counterexample} --diff\`.`,
    };
    const line = step === undefined ? undefined : stepLine(v.counterexample, step);
    out.locations = [{
      physicalLocation: { artifactLocation: { uri: uriOf(v.counterexample) }, ...(line ? { region: { startLine: line } } : {}) },
    }];
  }
  if (v.status === "known" && !strict) {
    out.suppressions = [{ kind: "external", status: "accepted", justification: `known finding ${v.known} in the baseline` }];
  }
  return out;
}

/** Per engine run: its config and figures, and the properties it proved, bounded or found violated. */
function checked(r: EngineReport): Record<string, unknown> {
  const having = (s: Verdict["status"]) => r.verdicts.filter((v) => v.status === s).map((v) => v.property);
  return {
    engine: r.engine,
    config: r.config,
    complete: r.complete,
    ...(r.stop ? { stop: r.stop } : {}),
    stats: r.stats,
    proved: having("pass"),
    bounded: having("bounded"),
    violated: having("fail"),
    known: having("known"),
    skipped: having("skipped"),
  };
}

export function sarifLog(reports: readonly EngineReport[], o: SarifOptions): Record<string, unknown> {
  const ids = [...new Set([...o.properties.map((p) => p.id), ...reports.flatMap((r) => r.verdicts.map((v) => v.property))])];
  const rules = ids.map((id) => {
    const p = propertyById(id);
    return {
      id,
      shortDescription: { text: describeProperty(id) ?? "a regression trace that names no property" },
      defaultConfiguration: { level: "error" },
      ...(p?.invariant ? { properties: { invariant: p.invariant } } : {}),
    };
  });
  const results = reports.flatMap((r) =>
    r.verdicts.filter((v) => v.status === "fail" || v.status === "known").map((v) => result(r, v, ids.indexOf(v.property), o.strict)),
  );
  const notifications = reports.flatMap((r) => [
    ...(r.complete ? [] : [`INCOMPLETE: stopped by ${r.stop}; no violation found in what was covered is not a proof`]),
    ...r.warnings,
  ].map((text) => ({ level: "warning", message: { text: `${r.engine} on ${r.config}: ${text}` } })));
  const states = reports.reduce((n, r) => n + Number(r.stats.states ?? r.stats.distinctStates ?? 0), 0);
  const version = toolVersion();
  return {
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [{
      tool: {
        driver: {
          name: "pkvm-check",
          ...(version ? { version } : {}),
          fullName: "pkvm-check: a model checker for the memory isolation of pKVM",
          rules,
          properties: { model: MODEL_VERSION },
        },
      },
      invocations: [{ executionSuccessful: true, exitCode: o.exitCode, toolExecutionNotifications: notifications }],
      results,
      properties: {
        strict: o.strict,
        statesExplored: states,
        proofs: reports.reduce((n, r) => n + r.verdicts.filter((v) => v.status === "pass").length, 0),
        checked: reports.map(checked),
      },
    }],
  };
}
