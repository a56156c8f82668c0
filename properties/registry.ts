// Auto-registration: every module in this folder (but this one and property.ts) default-exports
// a Property. Loaded once, sorted by id so that every engine checks them in the same order.

import { readdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Property } from "./property.js";

const here = dirname(fileURLToPath(import.meta.url));
const SKIP = new Set(["registry", "property"]);
/** Each property's module: its header comment is the property's documentation. */
const FILES = new Map<string, string>();

async function load(): Promise<Property[]> {
  const files = readdirSync(here).filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith(".d.ts") && !f.endsWith(".test.ts"));
  const props: Property[] = [];
  for (const f of files) {
    if (SKIP.has(f.replace(/\.(ts|js)$/, ""))) continue;
    const mod = (await import(pathToFileURL(`${here}/${f}`).href)) as { default?: Property };
    const p = mod.default;
    if (!p || typeof p.id !== "string" || (!p.checkState && !p.checkStep)) {
      throw new Error(`properties/${f}: must default-export a Property with an id and a check`);
    }
    if (props.some((q) => q.id === p.id)) throw new Error(`properties/${f}: duplicate property id ${p.id}`);
    props.push(p);
    FILES.set(p.id, `${here}/${f}`);
  }
  return props.sort((a, b) => a.id.localeCompare(b.id));
}

export const PROPERTIES: readonly Property[] = await load();

/** The file of the module that defines the property (TypeScript or the compiled JavaScript). */
export function propertyFile(id: string): string | undefined {
  return FILES.get(id);
}

export function propertyById(id: string): Property | undefined {
  return PROPERTIES.find((p) => p.id === id);
}
