// The known-findings baseline: violations of the real model that are genuine findings about pKVM
// (not modelling mistakes), each with its trace and an explanation in docs/findings.md. The gate
// reports them as known and fails only on new ones (unless --strict).

import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { InputError } from "../../model/config.js";
import type { Property } from "../../properties/property.js";
import { readJson } from "../configs.js";

export interface KnownFinding {
  /** Stable id, also the heading in docs/findings.md. */
  id: string;
  property: string;
  /** The action of the violating step: a finding is known by its property and this action. */
  action: string;
  /** The counterexample, relative to the baseline file. */
  trace: string;
  summary: string;
}

const KEYS = ["id", "property", "action", "trace", "summary"];

/**
 * The baseline in `file`. A baseline the user named must exist (a mistyped path would turn every
 * known finding into a new violation); the project's default one may not (none: no findings).
 */
export function readBaseline(file: string, required = true): KnownFinding[] {
  if (!existsSync(file)) {
    if (required) throw new InputError(`${file}: cannot read: no such known-findings baseline`);
    return [];
  }
  const x = readJson(file);
  if (!Array.isArray(x)) throw new InputError(`${file}: expected an array of known findings`);
  return x.map((e, i) => {
    const at = `${file}: [${i}]`;
    if (typeof e !== "object" || e === null) throw new InputError(`${at}: expected an object`);
    for (const k of Object.keys(e)) if (!KEYS.includes(k)) throw new InputError(`${at}.${k}: unknown key`);
    for (const k of KEYS) {
      if (typeof (e as Record<string, unknown>)[k] !== "string") throw new InputError(`${at}.${k}: expected a string`);
    }
    const f = e as KnownFinding;
    return { ...f, trace: join(dirname(file), f.trace) };
  });
}

/** The id of the known finding a violation is, if any. */
export function matchKnown(baseline: readonly KnownFinding[], property: string, action: string | undefined): string | undefined {
  return baseline.find((f) => f.property === property && f.action === action)?.id;
}

/**
 * The properties with their known findings masked out, for engines without a known-findings
 * hook: a step check whose violation is a known finding (same property, same action) passes.
 */
export function maskKnown(properties: readonly Property[], baseline: readonly KnownFinding[]): Property[] {
  return properties.map((p) => {
    const check = p.checkStep;
    if (!check || !baseline.some((f) => f.property === p.id)) return p;
    return { ...p, checkStep: (pre, step, ret, post) => (matchKnown(baseline, p.id, step.action.name) ? null : check(pre, step, ret, post)) };
  });
}
