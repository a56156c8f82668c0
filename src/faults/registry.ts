// Every seeded fault, by name: what `--fault NAME`, `pkvm-check faults` and the regression
// corpus (a counterexample's meta.fault) resolve. docs/faults.md describes each one.

import { InputError } from "../../model/config.js";
import type { FaultLookup } from "../check/corpus.js";
import { ACCESS_FAULTS } from "./access.js";
import { ACCOUNTING_FAULTS } from "./accounting.js";
import type { Fault } from "./fault.js";
import { FFA_FAULTS } from "./ffa.js";
import { GUEST_DONATE_FAULTS } from "./guest-donate.js";
import { GUEST_SHARE_FAULTS } from "./guest-share.js";
import { HOST_HYP_FAULTS } from "./host-hyp.js";
import { LIFECYCLE_FAULTS } from "./lifecycle.js";
import { MEMCACHE_FAULTS } from "./memcache.js";
import { RANGE_FAULTS } from "./ranges.js";

/** "B12" -> 12, "new" after every bug: the order the kill matrix lists them in. */
const bugOrder = (f: Fault): number => (f.bug === "new" ? Infinity : Number(f.bug.slice(1)));

export const FAULTS: readonly Fault[] = [
  ...HOST_HYP_FAULTS,
  ...RANGE_FAULTS,
  ...FFA_FAULTS,
  ...GUEST_SHARE_FAULTS,
  ...GUEST_DONATE_FAULTS,
  ...MEMCACHE_FAULTS,
  ...LIFECYCLE_FAULTS,
  ...ACCESS_FAULTS,
  ...ACCOUNTING_FAULTS,
].sort((a, b) => bugOrder(a) - bugOrder(b) || a.name.localeCompare(b.name));

export function faultByName(name: string): Fault | undefined {
  return FAULTS.find((f) => f.name === name);
}

/** The regression corpus's lookup: a counterexample's meta.fault to its model variant. */
export const faultLookup: FaultLookup = (name) => faultByName(name)?.variant;

/** The fault a `--fault` flag names (none when absent); an unknown name is an input error. */
export function faultOption(name: string | undefined): Fault | undefined {
  if (name === undefined) return undefined;
  const fault = faultByName(name);
  if (!fault) throw new InputError(`--fault: unknown fault "${name}" (pkvm-check faults --list names them)`);
  return fault;
}
