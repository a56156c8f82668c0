// Auto-registration: every module in this folder (but this one and property.ts) default-exports
// a Property or a TemporalProperty. Loaded once, sorted by id so that every engine checks them in
// the same order. Ids are unique across both kinds.

import { readdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isTemporal, type Property, type TemporalProperty } from "./property.js";

const here = dirname(fileURLToPath(import.meta.url));
const SKIP = new Set(["registry", "property"]);
/** Each property's module: its header comment is the property's documentation. */
const FILES = new Map<string, string>();

async function load(): Promise<{ props: Property[]; temporal: TemporalProperty[] }> {
  const files = readdirSync(here).filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith(".d.ts") && !f.endsWith(".test.ts"));
  const props: Property[] = [];
  const temporal: TemporalProperty[] = [];
  const ids = new Set<string>();
  for (const f of files) {
    if (SKIP.has(f.replace(/\.(ts|js)$/, ""))) continue;
    const mod = (await import(pathToFileURL(`${here}/${f}`).href)) as { default?: Property | TemporalProperty };
    const p = mod.default;
    if (!p || typeof p.id !== "string") throw new Error(`properties/${f}: must default-export a Property or a TemporalProperty with an id`);
    if (ids.has(p.id)) throw new Error(`properties/${f}: duplicate property id ${p.id}`);
    ids.add(p.id);
    if (isTemporal(p)) temporal.push(p);
    else if (p.checkState || p.checkStep) props.push(p);
    else throw new Error(`properties/${f}: a Property needs checkState or checkStep`);
    FILES.set(p.id, `${here}/${f}`);
  }
  const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
  return { props: props.sort(byId), temporal: temporal.sort(byId) };
}

const loaded = await load();

/** The state and step properties: every engine checks them. */
export const PROPERTIES: readonly Property[] = loaded.props;

/** The temporal properties: only the exhaustive search checks them, on its state graph. */
export const TEMPORAL_PROPERTIES: readonly TemporalProperty[] = loaded.temporal;

/** The file of the module that defines the property (TypeScript or the compiled JavaScript). */
export function propertyFile(id: string): string | undefined {
  return FILES.get(id);
}

export function propertyById(id: string): Property | undefined {
  return PROPERTIES.find((p) => p.id === id);
}

export function temporalById(id: string): TemporalProperty | undefined {
  return TEMPORAL_PROPERTIES.find((p) => p.id === id);
}

/** The one-line description of a property of either kind, for reports. */
export function describeProperty(id: string): string | undefined {
  return (propertyById(id) ?? temporalById(id))?.description;
}
