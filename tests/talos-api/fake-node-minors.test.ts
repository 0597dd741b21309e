/**
 * The fake Talos node plays every supported minor (the rows of components/talos-minors.ts): given
 * the machine config this project renders for that minor — for 1.14+ the fully multi-document
 * layout, where the installer image, kubelet image and cluster endpoint live in their own
 * documents — it answers Version with that release's tag over mutual TLS (through the project's
 * own client) and reports the kubelet version of the config, as a real node of that release does.
 */
import * as assert from "node:assert/strict";
import { renderMachineConfig } from "../../components/talos/machineconfig/render";
import { talosVersionTag } from "../../components/talos/resources/logic/common";
import type { MachineRole } from "../../components/talos/types";
import { TALOS_MINORS, type TalosMinor } from "../../components/talos-minors";
import { newTestPki, type TestPki } from "../fakes/machine-config";
import { FakeTalosNode, parseMachineConfig } from "../fakes/talos-node";
import { baseInput, fakeBundle } from "../talos/fixtures-machineconfig";

describe("talos-api: the fake node plays every supported Talos minor", function () {
  this.timeout(30_000);
  let pki: TestPki;

  before(async () => {
    pki = await newTestPki();
  });

  const render = (minor: TalosMinor, role: MachineRole): string => {
    const b = fakeBundle();
    const bundle = { ...b, certs: { ...b.certs, os: pki.osCa } };
    return renderMachineConfig(
      baseInput(minor, role, bundle, { endpoint: "https://127.0.0.9:6443", openebsHostpath: false }),
    );
  };

  for (const row of TALOS_MINORS) {
    it(`${row.minor}: reads the config's install image, kubelet image and endpoint, answers Version v${row.machineryRelease}`, async () => {
      for (const role of ["controlplane", "worker"] as const) {
        const parsed = parseMachineConfig(render(row.minor, role));
        assert.match(
          parsed.installImage ?? "",
          new RegExp(`:v${row.machineryRelease.replace(/\./g, "\\.")}$`),
        );
        assert.equal(parsed.kubeletImage, `ghcr.io/siderolabs/kubelet:v${row.defaultKubernetes}`);
        assert.equal(parsed.endpoint, "https://127.0.0.9:6443");
        assert.equal(parsed.clusterName, "homelab");
      }
      const node = await FakeTalosNode.start({ config: render(row.minor, "controlplane"), hostname: "cp-1" });
      try {
        const tag = await talosVersionTag(
          node.address,
          { osCa: pki.osCa.crt, clientCert: pki.admin.crt, clientKey: pki.admin.key },
          5000,
        );
        assert.equal(tag, `v${row.machineryRelease}`);
        assert.equal(node.kubeletVersion, `v${row.defaultKubernetes}`);
      } finally {
        await node.close();
      }
    });
  }
});
