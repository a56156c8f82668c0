// Where a project keeps its known-findings baseline and its regression corpus, so that `check`
// finds them whatever the working directory. The project's root is the nearest directory at or
// above the working directory holding a `pkvm-check.json` project file; without one, the
// directory of the --config file; without that, the working directory. The project file may
// move either (paths relative to the file):
//     { "baseline": "findings/known-findings.json", "corpus": "counterexamples" }
// Paths given on the command line stay relative to the working directory, as a shell user means.

import { existsSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { InputError } from "../../model/config.js";
import { builtinConfig, readJson } from "../configs.js";

export const PROJECT_FILE = "pkvm-check.json";

const DEFAULTS = { baseline: "findings/known-findings.json", corpus: "counterexamples" };

export interface Project {
  /** The directory everything below is relative to (SARIF's %SRCROOT%). */
  readonly root: string;
  /** The project file, when there is one. */
  readonly file?: string;
  readonly baseline: string;
  /** True when the project file names the baseline: then it must exist. */
  readonly baselineNamed: boolean;
  readonly corpus: string;
}

/** The nearest project file at or above dir. */
function projectFileAbove(dir: string): string | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (existsSync(join(d, PROJECT_FILE))) return join(d, PROJECT_FILE);
    if (dirname(d) === d) return undefined;
  }
}

function readProjectFile(file: string): Partial<typeof DEFAULTS> {
  const x = readJson(file);
  if (typeof x !== "object" || x === null || Array.isArray(x)) throw new InputError(`${file}: expected an object`);
  for (const [k, v] of Object.entries(x)) {
    if (!(k in DEFAULTS)) throw new InputError(`${file}: ${k}: unknown key (known: ${Object.keys(DEFAULTS).join(", ")})`);
    if (typeof v !== "string" || v === "") throw new InputError(`${file}: ${k}: expected a path`);
  }
  return x as Partial<typeof DEFAULTS>;
}

/** A path as the user reads it best: relative to the working directory when under it. */
function shown(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel === "" ? "." : rel.startsWith("..") || isAbsolute(rel) ? path : rel;
}

/** The project `check` runs in, from the working directory and the --config argument. */
export function findProject(cwd: string, config?: string): Project {
  const file = projectFileAbove(cwd);
  const configDir = config !== undefined && !builtinConfig(config) ? dirname(resolve(cwd, config)) : undefined;
  const root = file ? dirname(file) : (configDir ?? resolve(cwd));
  const named = file ? readProjectFile(file) : {};
  return {
    root,
    file,
    baseline: shown(cwd, join(root, named.baseline ?? DEFAULTS.baseline)),
    baselineNamed: named.baseline !== undefined,
    corpus: shown(cwd, join(root, named.corpus ?? DEFAULTS.corpus)),
  };
}

/** The baseline file to read and whether it must exist: --baseline's, else the project's. */
export function baselineOf(p: Project, flag: string | undefined): { file: string; required: boolean } {
  return flag !== undefined ? { file: flag, required: true } : { file: p.baseline, required: p.baselineNamed };
}
