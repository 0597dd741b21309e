import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { configFromEntries, isNearMissNamespace } from "../../components/config/source";
import { parseStackFile } from "../../components/config/stack-file";
import { renderMain } from "../../scripts/render";
import { preflight } from "../../stacks/commands/operation";
import type { Context } from "../../stacks/context";
import type { OpenedStack } from "../../stacks/workspace";
import { PROJECT_ROOT, tempDir } from "../helpers/shared";

/** One loader for render, preview and the program: the stack file read as the Pulumi CLI does. */
const SAMPLE = fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.homelab.yaml"), "utf8");

function withLines(text: string, extra: string): string {
  return text.replace(/^config:\n/m, `config:\n${extra}`);
}

describe("stack config: one loader, read as the Pulumi CLI reads it", () => {
  it("refuses YAML 1.1 ambiguous scalars with the key and a fix", () => {
    const text = SAMPLE.replace(/^(\s+)bridge: (\S+)$/m, "$1bridge: $2\n$1vlan: 010").replace(
      /proxmox-talos:production: false/,
      "proxmox-talos:production: yes",
    );
    const { issues } = parseStackFile(text);
    const byPath = new Map(issues.map((i) => [i.path, i]));
    assert.match(
      byPath.get("network.vlan")?.message ?? "",
      /010 is ambiguous: the Pulumi CLI reads a leading 0 as octal \(8\), YAML 1\.2 as 10/,
    );
    assert.match(byPath.get("network.vlan")?.fix ?? "", /without the leading zero \(10\)/);
    assert.match(byPath.get("production")?.message ?? "", /yes is ambiguous/);
    assert.match(byPath.get("production")?.fix ?? "", /write true or false/);
    const quoted = parseStackFile(
      SAMPLE.replace(/proxmox-talos:production: false/, 'proxmox-talos:clusterTag: "010"'),
    );
    assert.deepEqual(quoted.issues, [], "a quoted value is text, not ambiguous");
  });

  it("warns about keys of a near-miss namespace (they would be ignored)", () => {
    assert.ok(isNearMissNamespace("proxmoxtalos"));
    assert.ok(isNearMissNamespace("proxmox_talos"));
    assert.ok(isNearMissNamespace("proxmox-tlaos"));
    assert.ok(!isNearMissNamespace("proxmoxve"));
    assert.ok(!isNearMissNamespace("kubernetes"));
    const src = configFromEntries({
      "proxmoxtalos:production": { value: "true", secret: false },
      "proxmoxve:endpoint": { value: "x", secret: false },
    });
    assert.equal(src.warnings.length, 1);
    assert.match(
      src.warnings[0]!,
      /proxmoxtalos:production is ignored.*rename it to proxmox-talos:production/,
    );
  });

  it("render refuses a plain-text secret and an ambiguous scalar like the program, writing nothing", async () => {
    const dir = tempDir();
    const file = path.join(dir, "Pulumi.bad.yaml");
    fs.writeFileSync(
      file,
      withLines(SAMPLE, "  proxmox-talos:proxmoxApiToken: root@pam!x=y\n").replace(
        /^(\s+)bridge: (\S+)$/m,
        "$1bridge: $2\n$1vlan: 010",
      ),
    );
    const out = path.join(dir, "out");
    const errors: string[] = [];
    const original = console.error;
    console.error = (msg: string) => errors.push(String(msg));
    try {
      await assert.rejects(renderMain(["--config-file", file, "--out", out]), (e: Error) => {
        assert.match(e.message, /proxmox-talos:proxmoxApiToken: is stored in plain text/);
        assert.match(e.message, /proxmox-talos:network\.vlan: 010 is ambiguous/);
        return true;
      });
      // The ambiguous key is one problem, not also a type fault for the reading the program got.
      fs.writeFileSync(file, SAMPLE.replace(/production: false/, "production: no"));
      await assert.rejects(renderMain(["--config-file", file, "--out", out]), (e: Error) => {
        assert.match(
          e.message,
          /^invalid stack config \(1 problem\):\n {2}- proxmox-talos:production: no is ambiguous/,
        );
        return true;
      });
    } finally {
      console.error = original;
    }
    assert.equal(fs.existsSync(out), false, "nothing written");
  });

  it("render refuses a patch Talos would refuse, naming its key, before writing any file", async () => {
    const dir = tempDir();
    const file = path.join(dir, "Pulumi.bad.yaml");
    fs.writeFileSync(
      file,
      SAMPLE.replace(
        '          sysctls:\n            vm.max_map_count: "262144"',
        "          kubelet:\n            extraArg: {a: b}",
      ),
    );
    const out = path.join(dir, "out");
    await assert.rejects(
      renderMain(["--config-file", file, "--out", out]),
      /proxmox-talos:patches\.worker\[0\]: is refused by Talos .*unknown keys found during decoding: machine\.kubelet\.extraArg/,
    );
    assert.equal(fs.existsSync(out), false, "nothing written");
  });

  it("preview reports config faults before anything about plugins", async () => {
    const dir = tempDir();
    let pluginsAsked = false;
    const opened = {
      root: dir,
      clusterProgram: true,
      stack: {
        name: "bad",
        getAllConfig: async () => ({
          "proxmox-talos:clusterName": { value: "homelab", secret: false },
          "proxmox-talos:nodes": {
            value: JSON.stringify([{ name: "cp-1", role: "controlplane", ip: "10.0.0.300" }]),
            secret: false,
          },
        }),
      },
      // Any use of the workspace (listing or installing plugins) would be too early.
      workspace: new Proxy(
        {},
        {
          get: () => {
            pluginsAsked = true;
            return async () => {
              throw new Error("no plugins");
            };
          },
        },
      ),
    } as unknown as OpenedStack;
    const lines: string[] = [];
    const sink = { write: (t: string) => lines.push(t) };
    const ctx = { out: sink, err: sink, mode: "plain", workspace: {} } as unknown as Context;
    await assert.rejects(
      preflight(ctx, opened, "preview"),
      /proxmox-talos:nodes\[0\]\.ip: "10\.0\.0\.300" is not an IPv4 address/,
    );
    assert.equal(pluginsAsked, false);
  });
});
