/**
 * `addons.etcdBackup`: validation (each fault names its key, all reported together), the objects
 * ClusterAddons registers under the recording mocks (the talos.dev ServiceAccount with role
 * os:etcd:backup, the CronJob, the S3 keys only as Pulumi secrets), and machine configs with the
 * control-plane Talos API access patch passing Sidero's own `validate` on 1.10–1.13.
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { etcdBackupMachinePatch } from "../../components/addons";
import { EtcdBackupSchema } from "../../components/addons/etcd-backup";
import { cronProblem } from "../../components/addons/field-formats";
import { ConfigError } from "../../components/config/errors";
import { validateStackConfig } from "../../components/config/validate";
import { renderMachineConfig } from "../../components/talos/machineconfig/render";
import { ageIdentityState, testAddons } from "../addons/harness";
import { recordProgram } from "../helpers/mocks";
import { sampleRaw } from "../helpers/sample-stack";
import { requireOracle, runOracle, tempDir } from "../helpers/shared";
import { baseInput, MINORS, oracleBundle, writeTemp } from "../talos/fixtures-machineconfig";

const RECIPIENT = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
const KEYS = { etcdBackupS3AccessKeyId: "AKIDEXAMPLE", etcdBackupS3SecretAccessKey: "wJalrXUtnFEMI-K7MDENG" };
const GOOD = {
  enabled: true,
  schedule: "30 2 * * *",
  s3: { endpoint: "https://minio.lan:9000", bucket: "etcd-backups", prefix: "homelab/etcd" },
  ageRecipient: RECIPIENT,
};

function sampleWith(etcdBackup: unknown, addons: Record<string, unknown> = {}): Record<string, unknown> {
  const raw = sampleRaw();
  raw.addons = { ...(raw.addons as Record<string, unknown>), ...addons, etcdBackup };
  return raw;
}

function faults(
  etcdBackup: unknown,
  secrets: Record<string, string> = KEYS,
  addons: Record<string, unknown> = {},
): string {
  try {
    validateStackConfig(sampleWith(etcdBackup, addons), {
      proxmoxApiToken: "root@pam!pulumi=00000000-0000-0000-0000-000000000000",
      ...secrets,
    });
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  return "";
}

describe("backup: the etcdBackup addon", function () {
  this.timeout(120_000);

  it("accepts a full config and defaults to off, daily, namespace talos-backup, path-style", () => {
    assert.equal(faults(GOOD), "");
    const d = EtcdBackupSchema.parse({});
    assert.deepEqual([d.enabled, d.schedule, d.namespace], [false, "0 3 * * *", "talos-backup"]);
    assert.equal(EtcdBackupSchema.parse({ s3: { bucket: "b-1" } }).s3?.pathStyle, true);
    for (const s of ["0 3 * * *", "*/15 * * * *", "0 0 1,15 * 0-6", "@daily"])
      assert.equal(cronProblem(s), undefined, s);
    for (const s of ["0 3 * *", "61 * * * *", "0 24 * * *", "daily", "* * * * * *"])
      assert.ok(cronProblem(s), s);
  });

  it("reports a bad schedule, an http endpoint and a missing bucket together, each by its key", () => {
    const msg = faults({ enabled: true, schedule: "every day", s3: { endpoint: "http://minio.lan:9000" } });
    assert.match(
      msg,
      /addons\.etcdBackup\.schedule: "every day" is not a cron schedule Kubernetes accepts: has 2 fields, not 5 — write five fields/,
    );
    assert.match(
      msg,
      /addons\.etcdBackup\.s3\.endpoint: "http:\/\/minio\.lan:9000" is not an https:\/\/ URL — /,
    );
    assert.match(msg, /addons\.etcdBackup\.s3\.bucket: \(unset\) is required/);
  });

  it("needs the S3 keys as secrets, the s3 section and a recipient when enabled", () => {
    const msg = faults({ enabled: true }, {}, { flux: { enabled: false }, sops: { enabled: false } });
    assert.match(msg, /addons\.etcdBackup\.s3: is missing while etcdBackup is enabled/);
    assert.match(msg, /addons\.etcdBackup\.ageRecipient: is unset and the stack has no SOPS recipient/);
    assert.match(msg, /etcdBackupS3AccessKeyId: and etcdBackupS3SecretAccessKey must both be set/);
    assert.match(
      faults({ ...GOOD, ageRecipient: "ssh-ed25519 AAAA" }),
      /addons\.etcdBackup\.ageRecipient: "ssh-ed25519 AAAA" is not an age recipient/,
    );
    assert.equal(faults({ enabled: false, schedule: "0 3 * * *" }, {}), "", "off: nothing required");
  });

  it("registers the talos.dev ServiceAccount, the CronJob and a Secret whose keys are Pulumi secrets", async () => {
    const rec = await recordProgram(
      () => {
        const addons = testAddons(
          {
            cilium: { enabled: true },
            etcdBackup: { ...GOOD, ageRecipient: undefined },
            flux: { enabled: true },
          },
          {
            clusterName: "homelab",
            etcdBackupKeys: {
              accessKeyId: pulumi.secret(KEYS.etcdBackupS3AccessKeyId),
              secretAccessKey: pulumi.secret(KEYS.etcdBackupS3SecretAccessKey),
            },
          },
        );
        return { enabled: addons.enabledAddons };
      },
      { newResource: ageIdentityState },
    );
    const byName = (n: string) => rec.resources.find((r) => r.name === n)!;
    const sa = byName("etcd-backup-talos-serviceaccount");
    assert.equal(sa.type, "kubernetes:talos.dev/v1alpha1:ServiceAccount");
    assert.deepEqual(sa.inputs.spec, { roles: ["os:etcd:backup"] });
    const secret = byName("etcd-backup-s3");
    assert.deepEqual(secret.inputs.stringData, {
      accessKeyId: "AKIDEXAMPLE",
      secretAccessKey: "wJalrXUtnFEMI-K7MDENG",
    });
    assert.ok(
      secret.secretInputPaths.some((p) => p.startsWith("stringData")),
      secret.secretInputPaths.join(),
    );
    const cron = byName("etcd-backup-cronjob");
    assert.equal(cron.type, "kubernetes:batch/v1:CronJob");
    const spec = cron.inputs.spec as {
      schedule: string;
      jobTemplate: {
        spec: {
          template: { spec: { containers: { env: { name: string; value?: string }[]; image: string }[] } };
        };
      };
    };
    assert.equal(spec.schedule, "30 2 * * *");
    const c = spec.jobTemplate.spec.template.spec.containers[0]!;
    assert.match(c.image, /^ghcr\.io\/siderolabs\/talos-backup:v/);
    const env = Object.fromEntries(c.env.map((e) => [e.name, e.value]));
    assert.equal(env.CUSTOM_S3_ENDPOINT, "https://minio.lan:9000");
    assert.equal(env.BUCKET, "etcd-backups");
    assert.equal(env.S3_PREFIX, "homelab/etcd");
    assert.equal(env.USE_PATH_STYLE, "true");
    assert.match(String(env.AGE_X25519_PUBLIC_KEY), /^age1/, "defaults to the stack's SOPS recipient");
    assert.equal(
      env.AWS_SECRET_ACCESS_KEY,
      undefined,
      "the key comes from the Secret, not a plain env value",
    );
    assert.ok(!JSON.stringify(cron.inputs).includes("wJalrXUtnFEMI"), "no key in the CronJob");
    const ns = rec.resources.find(
      (r) => r.type === "kubernetes:core/v1:Namespace" && r.name === "talos-backup",
    );
    assert.ok(ns);
  });

  describe("machine configs with the Talos API access patch pass Sidero's validate", () => {
    const dir = tempDir("etcd-backup-oracle-");
    // A real bundle: from 1.14 on, Talos validates the CA certificates in the Kube* documents.
    let bundle: ReturnType<typeof oracleBundle>["bundle"] | undefined;
    const realBundle = () => {
      bundle ??= oracleBundle().bundle;
      return bundle;
    };
    for (const minor of MINORS) {
      it(`Talos ${minor}: control plane`, function () {
        requireOracle(this, minor);
        const patch = etcdBackupMachinePatch(EtcdBackupSchema.parse(GOOD));
        const y = renderMachineConfig(baseInput(minor, "controlplane", realBundle(), { patches: [patch] }));
        assert.match(
          y,
          /kubernetesTalosAPIAccess:\n\s+enabled: true\n\s+allowedRoles:\n\s+- os:etcd:backup\n\s+allowedKubernetesNamespaces:\n\s+- talos-backup/,
        );
        const file = writeTemp(dir, `${minor}.yaml`, y);
        const v = runOracle(minor, ["validate", file]);
        assert.equal(v.status, 0, v.stdout + v.stderr);
      });
    }
  });
});
