/**
 * Image Factory's own schematic-ID code (../shared/tools/schematic-id: image-factory v0.8.4's
 * pkg/schematic), built by scripts/build-schematic-id.sh into `$SCHEMATIC_ID_DIR` (default
 * ~/.cache/schematic-id). Tests compute expected IDs with it and skip with a message without it.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const SCHEMATIC_ID_DIR = path.resolve(
  process.env.SCHEMATIC_ID_DIR ?? path.join(os.homedir(), ".cache", "schematic-id"),
);

/** The newest built binary (`schematic-id-<hash>`), or undefined. */
export function schematicIdTool(): string | undefined {
  if (!fs.existsSync(SCHEMATIC_ID_DIR)) return undefined;
  const bins = fs
    .readdirSync(SCHEMATIC_ID_DIR)
    .filter((f) => /^schematic-id-[0-9a-f]+$/.test(f))
    .map((f) => path.join(SCHEMATIC_ID_DIR, f))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  return bins[0];
}

/** Skips the running test/suite when the tool is not built. */
export function requireSchematicIdTool(ctx: Mocha.Context): string {
  const bin = schematicIdTool();
  if (!bin) {
    console.log(
      `      skipped: schematic-id not built in ${SCHEMATIC_ID_DIR} (needs Go and ../shared/tools/schematic-id; .ci/run builds it)`,
    );
    ctx.skip();
  }
  return bin!;
}

/** The factory's ID and canonical YAML of a schematic given as YAML or JSON text. */
export function factorySchematic(bin: string, text: string): { id: string; canonical: string } {
  const r = spawnSync(bin, ["--canonical", "-"], { input: text, encoding: "utf8", timeout: 60_000 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`schematic-id rejected the schematic: ${r.stderr}${r.stdout}`);
  const [first, ...rest] = r.stdout.split("\n");
  const id = /^([0-9a-f]{64})\s/.exec(first ?? "")?.[1];
  if (!id) throw new Error(`schematic-id printed no id: ${r.stdout}`);
  return { id, canonical: `${rest.join("\n").replace(/\n+$/, "")}\n` };
}
