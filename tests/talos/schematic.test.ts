import * as assert from "node:assert/strict";
import * as YAML from "yaml";
import {
  IMAGE_FACTORY_HOST,
  installerImage,
  isoImageUrl,
  nocloudImageUrl,
  schematicId,
  schematicYaml,
} from "../../components/talos/schematic";
import { DEFAULT_EXTENSIONS, IMAGE_FACTORY_URL } from "../../components/versions";

const EMPTY_ID = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";
const QGA_ID = "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515";

describe("talos image factory schematic", () => {
  it("empty schematic is `customization: {}` with the documented id", () => {
    const y = schematicYaml([]);
    assert.equal(y, "customization: {}\n");
    assert.equal(schematicId(y), EMPTY_ID);
  });

  it("qemu-guest-agent only: canonical 4-space YAML and the known id", () => {
    const y = schematicYaml(["siderolabs/qemu-guest-agent"]);
    assert.equal(
      y,
      "customization:\n    systemExtensions:\n        officialExtensions:\n            - siderolabs/qemu-guest-agent\n",
    );
    assert.equal(schematicId(y), QGA_ID);
    assert.equal(schematicId(schematicYaml([...DEFAULT_EXTENSIONS])), QGA_ID);
  });

  it("keeps list order (ids differ by order) and parses as the factory's structure", () => {
    const a = schematicYaml(["siderolabs/qemu-guest-agent", "siderolabs/iscsi-tools"]);
    const b = schematicYaml(["siderolabs/iscsi-tools", "siderolabs/qemu-guest-agent"]);
    assert.notEqual(schematicId(a), schematicId(b));
    assert.deepEqual(YAML.parse(a), {
      customization: {
        systemExtensions: { officialExtensions: ["siderolabs/qemu-guest-agent", "siderolabs/iscsi-tools"] },
      },
    });
    const k = schematicYaml(["siderolabs/qemu-guest-agent"], { extraKernelArgs: ["net.ifnames=0"] });
    assert.deepEqual(YAML.parse(k), {
      customization: {
        extraKernelArgs: ["net.ifnames=0"],
        systemExtensions: { officialExtensions: ["siderolabs/qemu-guest-agent"] },
      },
    });
  });

  it("rejects names that would need YAML quoting", () => {
    assert.throws(() => schematicYaml(["qemu-guest-agent"]), /invalid extension/);
    assert.throws(() => schematicYaml(["siderolabs/foo: bar"]), /invalid extension/);
    assert.throws(() => schematicYaml([], { extraKernelArgs: ["a b"] }), /kernel argument/);
  });

  it("URL builders", () => {
    assert.equal(
      nocloudImageUrl(IMAGE_FACTORY_URL, QGA_ID, "1.13.9"),
      `https://factory.talos.dev/image/${QGA_ID}/v1.13.9/nocloud-amd64.raw.zst`,
    );
    assert.equal(
      nocloudImageUrl("https://factory.talos.dev/", QGA_ID, "v1.11.6"),
      `https://factory.talos.dev/image/${QGA_ID}/v1.11.6/nocloud-amd64.raw.zst`,
    );
    assert.equal(
      isoImageUrl(IMAGE_FACTORY_URL, QGA_ID, "1.12.11"),
      `https://factory.talos.dev/image/${QGA_ID}/v1.12.11/nocloud-amd64.iso`,
    );
    assert.equal(IMAGE_FACTORY_HOST, "factory.talos.dev");
    assert.equal(
      installerImage(IMAGE_FACTORY_HOST, QGA_ID, "1.13.9", "nocloud"),
      `factory.talos.dev/nocloud-installer/${QGA_ID}:v1.13.9`,
    );
    assert.equal(
      installerImage("https://factory.talos.dev", QGA_ID, "1.10.0", "nocloud"),
      `factory.talos.dev/nocloud-installer/${QGA_ID}:v1.10.0`,
    );
    assert.equal(
      installerImage(IMAGE_FACTORY_HOST, QGA_ID, "1.9.6", "nocloud"),
      `factory.talos.dev/installer/${QGA_ID}:v1.9.6`,
    );
    assert.throws(() => installerImage(IMAGE_FACTORY_HOST, "abc", "1.13.9"), /schematic id/);
    assert.throws(() => nocloudImageUrl(IMAGE_FACTORY_URL, QGA_ID, "latest"), /Talos version/);
  });
});
