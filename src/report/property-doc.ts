// A property's documentation is the header comment of its module (properties/README.md asks
// every property to open with one); the SARIF report shows it as a rule's full description and
// help.

import { readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { propertyFile } from "../../properties/registry.js";

/** The property's header comment as one paragraph, or undefined for an unknown id. */
export function propertyDoc(id: string): string | undefined {
  const file = propertyFile(id);
  if (!file) return undefined;
  const lines = readFileSync(file, "utf8").split("\n");
  const end = lines.findIndex((l) => !l.startsWith("//"));
  const text = lines.slice(0, end < 0 ? lines.length : end).map((l) => l.replace(/^\/\/ ?/, "")).join(" ").trim();
  return text || undefined;
}

/**
 * The property's TypeScript source, properties/ID.ts under the package's root, whether the
 * registry loaded it from there or from its compiled copy under dist/.
 */
export function propertySource(id: string): string | undefined {
  const file = propertyFile(id);
  if (!file) return undefined;
  const dir = dirname(file);
  const root = basename(dirname(dir)) === "dist" ? dirname(dirname(dir)) : dirname(dir);
  return join(root, "properties", basename(file).replace(/\.js$/, ".ts"));
}
