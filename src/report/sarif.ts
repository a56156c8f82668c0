// `check --sarif FILE`: the gate's verdicts as SARIF 2.1.0, for CI systems and code scanning
// (GitHub's rules included: every result has a location, every rule its full description and
// help, every URI is relative to a base). Every property checked is a rule, documented by its
// module's header comment. Every violated property of every engine run is a result located at
// its counterexample (the line of the violating step); a known finding is a result suppressed by
// the baseline (unless --strict); a proof that did not complete is a result listing its open
// obligations, located at the property's source. A green run is still a full record of what was
// checked: the run's properties list every engine run with its config, its figures, what it
// proved and what it only bounded.

import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import type { ArtifactLocation, Location, Log, ReportingDescriptor, Result } from "sarif";
import { formatStep } from "../../model/actions.js";
import { MODEL_VERSION } from "../../model/version.js";
import type { Property } from "../../properties/property.js";
import { describeProperty, propertyById } from "../../properties/registry.js";
import type { EngineReport, Verdict } from "../check/report.js";
import { readTrace } from "../trace.js";
import { propertyDoc, propertySource } from "./property-doc.js";

export const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

/** The base every URI under the project's root is relative to (GitHub's name for the checkout). */
export const SRCROOT = "%SRCROOT%";

export interface SarifOptions {
  /** The properties the run checked. */
  properties: readonly Property[];
  strict: boolean;
  exitCode: number;
  /** The project's root (src/check/project.ts): URIs are relative to it. */
  root: string;
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

/**
 * Files as relative URIs: under the project's root relative to SRCROOT; elsewhere (an --out
 * outside the project) relative to a base of their own directory, OUT1, OUT2, ...
 */
class Bases {
  readonly bases: Record<string, { uri: string }> = {};
  private readonly outside = new Map<string, string>();

  constructor(private readonly root: string) {
    this.bases[SRCROOT] = { uri: this.dirUri(root) };
  }

  private dirUri(dir: string): string {
    const href = pathToFileURL(resolve(dir)).href;
    return href.endsWith("/") ? href : `${href}/`;
  }

  location(file: string): ArtifactLocation {
    const rel = relative(this.root, resolve(file));
    if (!rel.startsWith("..") && !isAbsolute(rel)) return { uri: encodeURI(rel.split(sep).join("/")), uriBaseId: SRCROOT };
    const dir = dirname(resolve(file));
    let base = this.outside.get(dir);
    if (!base) {
      base = `OUT${this.outside.size + 1}`;
      this.outside.set(dir, base);
      this.bases[base] = { uri: this.dirUri(dir) };
    }
    return { uri: encodeURIComponent(relative(dir, resolve(file))), uriBaseId: base };
  }
}

/** The 1-based line of steps[step] in a trace file written one step per line, if it is one. */
function stepLine(file: string, step: number): number | undefined {
  const lines = readFileSync(file, "utf8").split("\n");
  const open = lines.indexOf('  "steps": [');
  const line = open + 2 + step;
  return open >= 0 && step >= 0 && lines[line - 1]?.trimStart().startsWith('{"action"') ? line : undefined;
}

function at(artifactLocation: ArtifactLocation, startLine = 1): Location[] {
  return [{ physicalLocation: { artifactLocation, region: { startLine } } }];
}

/** What a verdict's result says, and where: its counterexample, else the property's source. */
function described(r: EngineReport, v: Verdict, bases: Bases): Pick<Result, "message" | "locations"> {
  const where = `${r.engine} on ${r.config}`;
  if (v.status === "unproved") {
    const open = (v.open ?? []).map((o) => `${o.goal} over ${o.transition}: ${o.verdict}${o.reason ? ` (${o.reason})` : ""}`);
    const text = `${v.property} not proved (${where}): ${v.message ?? ""}.${open.length ? ` Open obligations: ${open.join("; ")}.` : ""}`;
    const source = propertySource(v.property);
    return { message: { text }, locations: source ? at(bases.location(source)) : undefined };
  }
  if (v.counterexample && existsSync(v.counterexample)) {
    const t = readTrace(v.counterexample);
    // The step is the trace's own record of this violation; a corpus trace may record none.
    const step = t.violation?.property === v.property ? t.violation.step : undefined;
    const stepText = step === undefined ? "" : step < 0 ? " in the initial state" : ` at step ${step}, ${formatStep(t.steps[step].step)}`;
    const text = `${v.property} violated${stepText} (${where}): ${v.message ?? t.violation?.message ?? ""}. ` +
      `Counterexample: ${t.steps.length} steps from the initial state; replay it with \`pkvm-check replay ${v.counterexample} --diff\`.`;
    return { message: { text }, locations: at(bases.location(v.counterexample), step === undefined ? 1 : stepLine(v.counterexample, step)) };
  }
  const text = `${v.property} violated (${where}): ${v.message ?? ""}${v.known ? ` [known finding ${v.known}]` : ""}`;
  const source = propertySource(v.property);
  return { message: { text }, locations: source ? at(bases.location(source)) : undefined };
}

function result(r: EngineReport, v: Verdict, ruleIndex: number, o: SarifOptions, bases: Bases): Result {
  return {
    ruleId: v.property,
    ruleIndex,
    level: "error",
    kind: "fail",
    ...described(r, v, bases),
    ...(v.status === "known" && !o.strict
      ? { suppressions: [{ kind: "external", status: "accepted", justification: `known finding ${v.known} in the baseline` }] }
      : {}),
    properties: {
      engine: r.engine,
      config: r.config,
      status: v.status,
      ...(v.known ? { knownFinding: v.known } : {}),
      ...(v.open ? { openObligations: v.open } : {}),
    },
  };
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
    ...(r.scope ? { scope: r.scope } : {}),
    proved: having("pass"),
    bounded: having("bounded"),
    unproved: having("unproved"),
    violated: having("fail"),
    known: having("known"),
    skipped: having("skipped"),
  };
}

function rule(id: string): ReportingDescriptor {
  const p = propertyById(id);
  const short = describeProperty(id) ?? "a regression trace that names no property";
  const doc = propertyDoc(id) ?? "A trace of the regression corpus that records no violated property: it must replay without one.";
  return {
    id,
    shortDescription: { text: short },
    fullDescription: { text: doc },
    help: {
      text: `${doc} Reproduce a violation with \`pkvm-check replay TRACE --diff\`; check this property alone with \`pkvm-check check --property ${id}\`.`,
    },
    defaultConfiguration: { level: "error" },
    ...(p?.invariant ? { properties: { invariant: p.invariant } } : {}),
  };
}

const REPORTED: readonly Verdict["status"][] = ["fail", "known", "unproved"];

export function sarifLog(reports: readonly EngineReport[], o: SarifOptions): Log {
  const ids = [...new Set([...o.properties.map((p) => p.id), ...reports.flatMap((r) => r.verdicts.map((v) => v.property))])];
  const bases = new Bases(o.root);
  const results = reports.flatMap((r) => r.verdicts.filter((v) => REPORTED.includes(v.status)).map((v) => result(r, v, ids.indexOf(v.property), o, bases)));
  const notifications = reports.flatMap((r) => [
    ...(r.complete ? [] : [`INCOMPLETE: stopped by ${r.stop}; no violation found in what was covered is not a proof`]),
    ...r.warnings,
  ].map((text) => ({ level: "warning" as const, message: { text: `${r.engine} on ${r.config}: ${text}` } })));
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
          rules: ids.map(rule),
          properties: { model: MODEL_VERSION },
        },
      },
      originalUriBaseIds: bases.bases,
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
