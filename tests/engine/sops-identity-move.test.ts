/**
 * The SOPS identity moved from under the addons component to beside the Talos layer (so the
 * pre-upgrade etcd snapshot is encrypted for it). Under the REAL engine: a stack made with the
 * former layout, then updated with the program's `clusterSopsIdentity`, keeps the very same
 * identity — no create, no delete (it is protected in production, so a lost alias would fail the
 * update outright) — and a second update changes nothing.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { Stack } from "@pulumi/pulumi/automation";
import { ClusterAddons, sopsAgeIdentity } from "../../components/addons";
import { clusterSopsIdentity } from "../../components/cluster";
import { inlineStack, requireEngine } from "../helpers/engine";

class Cluster extends pulumi.ComponentResource {
  constructor() {
    super("proxmox-talos:index:HomelabCluster", "homelab", {});
  }
}
class Addons extends pulumi.ComponentResource {
  constructor(parent: pulumi.Resource) {
    super(ClusterAddons.TYPE, "addons", {}, { parent });
  }
}

let layout: "former" | "current" = "former";

async function program(): Promise<Record<string, unknown>> {
  const cluster = new Cluster();
  const addons = new Addons(cluster);
  const age =
    layout === "former"
      ? sopsAgeIdentity(undefined, true, { parent: addons })
      : clusterSopsIdentity(cluster, undefined, true);
  return { recipient: age.recipient, urn: age.urn };
}

describe("real engine: the SOPS identity keeps its state across the move (alias)", function () {
  this.timeout(300_000);
  let dir = "";
  let stack: Stack | undefined;

  before(async function () {
    requireEngine(this);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sops-move-"));
    stack = await inlineStack({ dir, stackName: "prod", program });
  });

  after(async () => {
    if (stack) {
      // The identity is protected: lift it so the throwaway stack can go.
      await stack.workspace.removeStack(stack.name, { force: true }).catch(() => undefined);
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("former layout → current: same identity, nothing created or deleted, then no changes", async () => {
    assert.ok(stack);
    layout = "former";
    const first = await stack.up();
    const recipient = first.outputs.recipient!.value as string;
    assert.match(recipient, /^age1/);
    assert.match(
      String(first.outputs.urn!.value),
      /ClusterAddons\$pulumi-nodejs:dynamic:AgeIdentity::sops-age$/,
    );

    layout = "current";
    const moved = await stack.up();
    const summary = moved.summary.resourceChanges ?? {};
    assert.equal(summary.create ?? 0, 0, `nothing created: ${JSON.stringify(summary)}`);
    assert.equal(summary.delete ?? 0, 0, `nothing deleted: ${JSON.stringify(summary)}`);
    assert.equal(summary.replace ?? 0, 0, `nothing replaced: ${JSON.stringify(summary)}`);
    assert.equal(moved.outputs.recipient!.value, recipient, "the same age identity");
    assert.match(
      String(moved.outputs.urn!.value),
      /HomelabCluster\$pulumi-nodejs:dynamic:AgeIdentity::sops-age$/,
    );

    const again = await stack.preview();
    const changes = again.changeSummary;
    assert.deepEqual(
      Object.keys(changes).filter((k) => k !== "same"),
      [],
      `a second run changes nothing: ${JSON.stringify(changes)}`,
    );
  });
});
