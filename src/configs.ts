// The built-in world configs that `--config NAME` and a trace's "config" may name, and the
// resolution of a config given by name, by file or inline into a validated WorldConfig.

import { existsSync } from "node:fs";
import { InputError, parseWorldConfig, type WorldConfig } from "../model/config.js";
import { readInputJson } from "./input-file.js";

export interface BuiltinConfig {
  readonly name: string;
  readonly description: string;
  /** As a user would write it in JSON: defaults left out. */
  readonly json: Readonly<Record<string, unknown>>;
}

export const BUILTIN_CONFIGS: readonly BuiltinConfig[] = [
  {
    name: "tiny",
    description: "4 pages, a hyp page, one protected and one non-protected VM (1 vCPU, 2 gfns): explored in seconds",
    json: {
      pages: 4,
      hypPages: [0],
      blockPages: 2,
      maxShareCount: 2,
      vms: [
        { protected: true, vcpus: 1, gfns: 2 },
        { protected: false, vcpus: 1, gfns: 2 },
      ],
    },
  },
  {
    name: "default",
    description:
      "the CI gate: both VM kinds, a hyp page, a NOMAP page, MMIO, 2-page blocks, share count saturating at 2; explored to completion",
    // Three host RAM pages: a fourth multiplies the reachable states past ten million (over a
    // minute of search here), see the README's figures.
    json: {
      pages: 6,
      mmio: [[5, 6]],
      nomap: [4],
      hypPages: [0],
      blockPages: 2,
      maxShareCount: 2,
      vms: [
        { protected: true, vcpus: 1, gfns: 2 },
        { protected: false, vcpus: 1, gfns: 3 },
      ],
    },
  },
  {
    name: "reuse",
    description:
      "the gate's second exhaustive world: a hyp page, 4 interchangeable host RAM pages (one-page blocks), one protected VM slot to finalize and reuse",
    // Four host pages are what a reused handle needs to meet a leaked page (the VM's metadata
    // and vCPU pages, the leaked page, the next VM's page): force-reclaim-stale-annotation-panic.
    // One-page blocks make the four host pages interchangeable (symmetry: 24 permutations, 20x
    // fewer states); multi-page host ranges are `default`'s. A non-protected VM as well takes
    // the search past ten million states.
    json: {
      pages: 5,
      hypPages: [0],
      blockPages: 1,
      maxShareCount: 2,
      vms: [{ protected: true, vcpus: 1, gfns: 1 }],
    },
  },
  {
    name: "wide",
    description: "64 pages, 4 VMs of 2 vCPUs, 8-page blocks, the vCPU memcache: for the random and SMT engines",
    json: {
      pages: 64,
      mmio: [[56, 64]],
      nomap: [54, 55],
      hypPages: [0, 1],
      blockPages: 8,
      maxShareCount: 4,
      memcache: true,
      vms: [
        { protected: true, vcpus: 2, gfns: 16 },
        { protected: true, vcpus: 2, gfns: 16 },
        { protected: false, vcpus: 2, gfns: 16 },
        { protected: false, vcpus: 2, gfns: 16 },
      ],
    },
  },
];

export function builtinConfig(name: string): BuiltinConfig | undefined {
  return BUILTIN_CONFIGS.find((c) => c.name === name);
}

export const BUILTIN_NAMES = BUILTIN_CONFIGS.map((c) => c.name).join(", ");

export interface NamedConfig {
  /** The built-in name, or the file the config was read from. */
  readonly name: string;
  readonly config: WorldConfig;
}

/**
 * A config as `--config` takes it: a built-in name or a JSON file; or an object already parsed
 * (named `where`). Errors name the file and the key.
 */
export function resolveConfig(spec: unknown, where = "config"): NamedConfig {
  if (typeof spec !== "string") return { name: where, config: parseWorldConfig(spec, where) };
  const builtin = builtinConfig(spec);
  if (builtin) return { name: spec, config: parseWorldConfig(builtin.json, spec) };
  if (!existsSync(spec)) throw new InputError(`${spec}: neither a built-in config (${BUILTIN_NAMES}) nor a file`);
  return { name: spec, config: parseWorldConfig(readJson(spec), `${spec}: config`) };
}

/** A JSON file, or an InputError naming it: unreadable, oversized and bad JSON files are user errors. */
export function readJson(file: string): unknown {
  return readInputJson(file);
}
