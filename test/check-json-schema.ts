// The JSON Schema of `check --json` (schemas/check-report.schema.json), compiled by ajv, for
// the tests that validate what check prints.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const schema = JSON.parse(readFileSync(join(ROOT, "schemas/check-report.schema.json"), "utf8"));
const ajv = new Ajv2020({ allErrors: true });
ajv.addSchema(schema);

/** The schema's errors on a document (none: valid), one line each; `def`: one of its $defs. */
export function checkJsonErrors(doc: unknown, def?: string): string[] {
  const validate = ajv.getSchema(def ? `${schema.$id}#/$defs/${def}` : schema.$id)!;
  return validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
