// The validators SARIF logs are held to: ajv against the SARIF 2.1.0 JSON schema the Multitool's
// package ships beside the tool, and Microsoft's SARIF Multitool (`validate`: the schema plus
// the SARIF rules, or GitHub's rules, which code scanning's upload enforces).

import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import formats from "ajv-formats";
import { expect } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PACKAGE = join(ROOT, "node_modules/@microsoft/sarif-multitool-linux");
const MULTITOOL = join(PACKAGE, "Sarif.Multitool");
const TMP = mkdtempSync(join(tmpdir(), "pkvm-sarif-validate-"));

let validate: ((log: unknown) => string[]) | undefined;

/** The schema's errors on a log, one line each (none: valid). */
export function sarifSchemaErrors(log: unknown): string[] {
  if (!validate) {
    const ajv = new Ajv2020({ allErrors: true, strict: false }); // strict concerns schema authoring, not validation
    formats.default(ajv); // a CommonJS module: its plugin is also its `default`
    const v = ajv.compile(JSON.parse(readFileSync(join(PACKAGE, "sarif-2.1.0.json"), "utf8")));
    validate = (x) => (v(x) ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
  }
  return validate(log);
}

/**
 * The Multitool's error-level findings on a log (its warnings are advice, e.g. an information
 * URI), with its default rules or GitHub's (`Gh`).
 */
export function multitoolErrors(log: unknown, name: string, ruleKind?: "Gh"): string[] {
  expect(existsSync(MULTITOOL), `${MULTITOOL}: npm install @microsoft/sarif-multitool`).toBe(true);
  chmodSync(MULTITOOL, 0o755); // the package's postinstall does this, when install scripts run
  const file = join(TMP, `${name}.sarif`);
  const out = join(TMP, `${name}.${ruleKind ?? "default"}.validation.sarif`);
  writeFileSync(file, JSON.stringify(log));
  const kind = ruleKind ? ["--rule-kind", ruleKind] : [];
  const r = spawnSync(MULTITOOL, ["validate", file, "-o", out, "--log", "ForceOverwrite", ...kind], { encoding: "utf8", timeout: 300_000 });
  expect(r.status, r.stdout + r.stderr).toBe(0);
  const results = JSON.parse(readFileSync(out, "utf8")).runs[0].results as { ruleId: string; level?: string; message: { arguments?: string[] } }[];
  return results.filter((x) => x.level === "error").map((x) => `${x.ruleId} ${x.message.arguments?.join(" ")}`);
}

/** Valid against the schema, and no error under the Multitool's default rules or GitHub's. */
export function expectValidSarif(log: unknown, name: string): void {
  expect(sarifSchemaErrors(log)).toEqual([]);
  expect(multitoolErrors(log, name)).toEqual([]);
  expect(multitoolErrors(log, name, "Gh")).toEqual([]);
}
