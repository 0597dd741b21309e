/**
 * The project's test runner: mocha over every `tests/**\/*.test.ts` (or the files/dirs given as
 * arguments), ending with the plain line `N passed, N failed, N skipped` that CI reads.
 *
 *   tsx tests/run.ts                       # everything
 *   tsx tests/run.ts tests/talos           # one folder
 *   tsx tests/run.ts --grep secrets        # mocha's grep
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Mocha from "mocha";

function collect(target: string, out: string[]): void {
  const stat = fs.statSync(target);
  if (stat.isDirectory()) {
    for (const entry of fs.readdirSync(target).sort()) {
      if (entry === "node_modules" || entry.startsWith(".")) continue;
      collect(path.join(target, entry), out);
    }
  } else if (target.endsWith(".test.ts")) {
    out.push(path.resolve(target));
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let grep: string | undefined;
  const targets: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--grep") grep = args[++i];
    else targets.push(args[i]);
  }
  const root = path.resolve(__dirname);
  const files: string[] = [];
  for (const t of targets.length > 0 ? targets : [root]) collect(t, files);

  const mocha = new Mocha({ reporter: "spec", timeout: 60_000, grep });
  for (const f of files) mocha.addFile(f);
  await mocha.loadFilesAsync();
  const runner = mocha.run();
  runner.on("end", () => {
    const s = runner.stats;
    const passed = s?.passes ?? 0;
    const failed = s?.failures ?? 0;
    const skipped = s?.pending ?? 0;
    console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
    process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
    // Open handles (gRPC servers, timers) must not keep a finished run alive.
    setTimeout(() => process.exit(process.exitCode), 200).unref();
  });
}

main().catch((err: unknown) => {
  console.error(err);
  console.log("0 passed, 1 failed");
  process.exit(1);
});
