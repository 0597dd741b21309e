import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../../components/config/errors";
import { loadStackConfig } from "../../components/config/load";
import { readStackFile } from "../../components/config/stack-file";
import { PROJECT_ROOT } from "../helpers/shared";

const TOKEN = "root@pam!pulumi=11111111-2222-3333-4444-555555555555";
const AGE = "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZ9K4CN";

function unwrap<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply((v) => resolve(v)));
}

describe("stack config: loading from Pulumi", () => {
  const sample = readStackFile(path.join(PROJECT_ROOT, "Pulumi.homelab.yaml")).config;

  afterEach(() => pulumi.runtime.setAllConfig({}, []));

  it("wraps every secret config value in a Pulumi secret", async () => {
    pulumi.runtime.setAllConfig(
      { ...sample, "proxmox-talos:proxmoxApiToken": TOKEN, "proxmox-talos:sopsAgeKey": AGE },
      ["proxmox-talos:proxmoxApiToken", "proxmox-talos:sopsAgeKey"],
    );
    const { secrets, config } = loadStackConfig();
    assert.equal(config.clusterName, "homelab");
    assert.ok(secrets.proxmoxApiToken && secrets.sopsAgeKey);
    assert.equal(await pulumi.isSecret(secrets.proxmoxApiToken), true);
    assert.equal(await pulumi.isSecret(secrets.sopsAgeKey), true);
    assert.equal(await unwrap(secrets.proxmoxApiToken), TOKEN);
  });

  it("rejects a secret key stored in plain text, naming it and the fix", () => {
    pulumi.runtime.setAllConfig({ ...sample, "proxmox-talos:proxmoxApiToken": TOKEN }, []);
    assert.throws(
      () => loadStackConfig(),
      (err: unknown) =>
        err instanceof ConfigError &&
        /proxmox-talos:proxmoxApiToken: is stored in plain text — .*pulumi config set --secret proxmox-talos:proxmoxApiToken/.test(
          err.message,
        ) &&
        !err.message.includes(TOKEN),
    );
  });

  it("reports a config fault and a plain-text secret together", () => {
    pulumi.runtime.setAllConfig(
      { ...sample, "proxmox-talos:clusterName": "BAD", "proxmox-talos:proxmoxApiToken": TOKEN },
      [],
    );
    assert.throws(
      () => loadStackConfig(),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.issues.some((i) => i.path === "clusterName") &&
        err.issues.some((i) => i.path === "proxmoxApiToken"),
    );
  });
});
