// `pkvm-check report TRACE [-o report.html]`: the trace as one self-contained HTML page (see
// src/report/html.ts). Like export, the exit code is replay's, and the page is written either way.

import { mkdirSync } from "node:fs";
import { basename, join } from "node:path";
import type { CommandModule } from "yargs";
import type { ModelVariant } from "../engine.js";
import { emitHtmlReport } from "../report/html.js";
import { EXIT } from "./exit.js";
import { checkOutputFile, failure, replayed, writeOutputWith } from "./output.js";

interface ReportArgs {
  trace: string;
  output?: string;
}

/** Replays the trace and writes its report into `out`; returns the replay's result. */
function writeReport(file: string, out: string, flag: string, variant?: ModelVariant) {
  const { trace, result, states } = replayed(file, variant);
  writeOutputWith(out, flag, (emit) => emitHtmlReport(result, states, trace.configName, emit));
  return result;
}

/** `check --html DIR`: the report of a counterexample as DIR/<its name>.html; returns its path. */
export function writeReportInto(dir: string, counterexample: string, variant?: ModelVariant): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${basename(counterexample).replace(/\.json$/, "")}.html`);
  writeReport(counterexample, file, "--html", variant);
  return file;
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: "report <trace>",
  describe: "write a trace as a self-contained HTML page: pages and guest frames by steps, the violation highlighted",
  builder: (y) =>
    y
      .positional("trace", { type: "string", demandOption: true, describe: "a pkvm-trace/1 file" })
      .option("output", { alias: "o", type: "string", describe: "the HTML file (default: the trace's name with .html, here)" }),
  handler: (argv) => {
    const out = argv.output ?? `${basename(argv.trace).replace(/\.json$/, "")}.html`;
    checkOutputFile(out, "-o");
    const result = writeReport(argv.trace, out, "-o");
    process.stdout.write(`wrote ${out}${result.ok ? "" : `: the trace ${failure(result)}`}\n`);
    process.exitCode = result.ok ? EXIT.OK : EXIT.FAILED;
  },
};
