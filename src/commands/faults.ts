// `pkvm-check faults [--json]`: every seeded fault (src/faults/) through every engine, as a kill
// matrix; each fault's shortest counterexample is kept under --out as a regression trace. Exit 1
// when a fault escapes every engine: the checker is blind to that bug.

import type { CommandModule } from "yargs";
import { readBaseline } from "../check/baseline.js";
import { baselineOf, findProject } from "../check/project.js";
import { DEFAULT_BUDGET } from "../faults/kill.js";
import { caught, killMatrix } from "../faults/matrix.js";
import { FAULTS, faultOption } from "../faults/registry.js";
import { formatMatrix, matrixToJson } from "../faults/report.js";
import { EXIT } from "./exit.js";
import { checkOutputDir } from "../io/output-path.js";

interface FaultsArgs {
  json: boolean;
  out?: string;
  fault?: string[];
  list: boolean;
  baseline?: string;
}

export const faultsCommand: CommandModule<object, FaultsArgs> = {
  command: "faults",
  describe: "run every seeded fault through every engine and print the kill matrix",
  builder: (y) =>
    y
      .option("json", { type: "boolean", default: false, describe: "print the matrix as one JSON document on stdout" })
      .option("out", { type: "string", describe: "directory for each fault's regression trace (default: the project's corpus, see pkvm-check.json)" })
      .option("fault", { type: "string", array: true, describe: "run only these faults" })
      .option("list", { type: "boolean", default: false, describe: "list the faults, run nothing" })
      .option("baseline", { type: "string", describe: "the real model's known findings, never credited to a fault (default: the project's, see pkvm-check.json)" }),
  handler: async (argv) => {
    const faults = argv.fault ? argv.fault.flatMap((n) => n.split(",")).map((n) => faultOption(n)!) : FAULTS;
    if (argv.list) {
      const width = Math.max(...faults.map((f) => f.name.length));
      process.stdout.write(`${faults.map((f) => `${f.name.padEnd(width)}  ${f.bug.padEnd(4)}  ${f.description}`).join("\n")}\n`);
      return;
    }
    const project = findProject(process.cwd());
    const out = argv.out ?? project.corpus;
    checkOutputDir(out, "--out");
    const { file, required } = baselineOf(project, argv.baseline);
    const baseline = readBaseline(file, required);
    const t0 = Date.now();
    const rows = await killMatrix(faults, {
      budget: DEFAULT_BUDGET,
      baseline,
      out,
      onRow: argv.json
        ? undefined
        : (row, i) => process.stderr.write(`faults: [${i + 1}/${faults.length}] ${row.fault.name}: ${row.kills.map((k) => `${k.engine} ${k.caught ? "caught" : "missed"}`).join(", ")}\n`),
    });
    const report = { rows, budget: DEFAULT_BUDGET, seconds: (Date.now() - t0) / 1000 };
    process.stdout.write(`${argv.json ? JSON.stringify(matrixToJson(report), null, 2) : formatMatrix(report)}\n`);
    process.exitCode = rows.every(caught) ? EXIT.OK : EXIT.FAILED;
  },
};
