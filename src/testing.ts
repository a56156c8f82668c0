// The researchers' vitest helper: explore the model with fast-check from an ordinary test and
// fail with the minimal trace, the seed and the path that reproduce it, the same trace the
// random engine of `pkvm-check check` reports.
//
//   import { exploreModel } from "../src/testing.js";
//   test("my-prop holds on tiny", () => {
//     exploreModel({ config: "tiny", properties: ["my-prop"] });
//   });
//
// A property still being written can be passed as an object instead of an id.

import { formatStep } from "../model/actions.js";
import { World } from "../model/world.js";
import { PROPERTIES, propertyById } from "../properties/registry.js";
import type { Property } from "../properties/property.js";
import { alphabet } from "./alphabet.js";
import { resolveConfig } from "./configs.js";
import { Engine, type ModelVariant } from "./engine.js";
import { randomExplore, type RandomResult, type RandomViolation } from "./explore/random.js";

/** Tests are reproducible by default; pass `seed: Date.now()` for a fresh stream each time. */
export const DEFAULT_TEST_SEED = 42;

export interface ExploreModelOptions {
  /** A built-in config name, or a world config object as a JSON file would hold it. */
  config: string | object;
  /** Property ids from properties/, or Property objects; default every registered property. */
  properties?: readonly (string | Property)[];
  runs?: number;
  seed?: number;
  maxSteps?: number;
  /** Replay one run: the path printed by a failure, with its seed and maxSteps. */
  path?: string;
  timeLimitMs?: number;
  /** Explore a model variant (a seeded fault) instead of the real model. */
  variant?: ModelVariant;
}

/** Thrown by exploreModel: the message is the report, `violation` the details. */
export class ModelViolation extends Error {
  override name = "ModelViolation";
  constructor(readonly violation: RandomViolation, readonly configName: string) {
    super(formatViolation(violation, configName));
  }
}

/** How a violation reads: the property, the numbered steps with their returns, how to reproduce it. */
export function formatViolation(v: RandomViolation, configName: string): string {
  return [
    `property ${v.property} violated on ${configName} after ${v.steps.length} step(s): ${v.finding.message}`,
    ...v.steps.map((s, i) => `  ${i + 1}. ${formatStep(s)} -> ${v.returns[i]}`),
    `reproduce: exploreModel({ ..., seed: ${v.seed}, path: ${JSON.stringify(v.path)}, maxSteps: ${v.maxSteps} })`,
  ].join("\n");
}

function resolveProperties(list: readonly (string | Property)[] | undefined): readonly Property[] {
  if (list === undefined) return PROPERTIES;
  return list.map((p) => {
    if (typeof p !== "string") return p;
    const found = propertyById(p);
    if (!found) throw new Error(`exploreModel: no property ${p} (known: ${PROPERTIES.map((q) => q.id).join(", ")})`);
    return found;
  });
}

/** Explores the model; throws a ModelViolation on the first violated property, else returns the result. */
export function exploreModel(opts: ExploreModelOptions): RandomResult {
  const { name, config } = resolveConfig(opts.config);
  const world = new World(config);
  const result = randomExplore(new Engine(world, opts.variant), alphabet(world), {
    properties: resolveProperties(opts.properties),
    seed: opts.seed ?? DEFAULT_TEST_SEED,
    runs: opts.runs,
    maxSteps: opts.maxSteps,
    path: opts.path,
    timeLimitMs: opts.timeLimitMs,
  });
  if (result.violations.length > 0) throw new ModelViolation(result.violations[0], name);
  return result;
}
