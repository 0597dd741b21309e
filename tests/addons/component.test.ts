/**
 * `ClusterAddons` under Pulumi mocks: ordering (dependencies), PodSecurity labels, toggles, and
 * the secrecy of the SOPS age identity.
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../../components/versions";
import { pathsOf, type RecordedResource, type Recording } from "../helpers/mocks";
import {
  AGE_TYPE,
  FULL_CONFIG,
  GITREPO,
  KUSTOMIZATION,
  L2,
  NAMESPACE,
  POOL,
  READY_TYPE,
  RELEASE,
  resourceKeys,
  runAddons,
  SECRET,
} from "./harness";

/** The resources each toggle owns (with FULL_CONFIG). */
const OWNED: Record<"cilium" | "metallb" | "openebs" | "flux" | "sops", string[]> = {
  cilium: [`${RELEASE}::cilium`],
  metallb: [
    `${NAMESPACE}::metallb-system`,
    `${RELEASE}::metallb`,
    `${POOL}::metallb-pool-default`,
    `${POOL}::metallb-pool-reserved`,
    `${L2}::metallb-l2`,
  ],
  openebs: [`${NAMESPACE}::openebs`, `${RELEASE}::openebs`],
  flux: [
    `${NAMESPACE}::flux-system`,
    `${RELEASE}::flux`,
    `${SECRET}::flux-system-git`,
    `${GITREPO}::flux-gitrepository`,
    `${KUSTOMIZATION}::flux-kustomization`,
    // SOPS follows Flux unless set explicitly.
    `${AGE_TYPE}::sops-age`,
    `${SECRET}::sops-age`,
  ],
  sops: [`${AGE_TYPE}::sops-age`, `${SECRET}::sops-age`],
};

function addonResources(rec: Recording): RecordedResource[] {
  return rec.resources.filter(
    (r) => r.custom && r.type !== READY_TYPE && !r.type.startsWith("pulumi:providers:"),
  );
}

describe("ClusterAddons (mocks)", function () {
  this.timeout(60_000);
  let full: Awaited<ReturnType<typeof runAddons>>;
  let rec: Recording;
  before(async () => {
    full = await runAddons(FULL_CONFIG);
    rec = full.rec;
  });

  it("registers one component with the expected type token and parents everything under it", () => {
    const comp = rec.find("proxmox-talos:index:ClusterAddons", "addons");
    for (const r of addonResources(rec)) assert.equal(r.parentUrn, comp.urn, `${r.type} ${r.name}`);
    assert.deepEqual(
      [...resourceKeys(rec)].sort(),
      Object.values(OWNED)
        .flat()
        .filter((v, i, a) => a.indexOf(v) === i)
        .sort(),
    );
  });

  it("builds the Kubernetes provider from the secret kubeconfig, after clusterReady", () => {
    const provider = rec.find("pulumi:providers:kubernetes", "kubernetes");
    const ready = rec.find(READY_TYPE, "ready");
    assert.ok(provider.dependencies.includes(ready.urn));
    assert.ok(provider.secretInputPaths.includes("kubeconfig"));
    for (const r of addonResources(rec).filter((x) => x.type !== AGE_TYPE)) {
      assert.equal(r.providerUrn, provider.urn, `${r.type} ${r.name} uses the cluster's provider`);
    }
  });

  it("makes every addon resource wait for clusterReady", () => {
    const ready = rec.find(READY_TYPE, "ready");
    for (const r of addonResources(rec)) assert.ok(rec.dependsOn(r, ready), `${r.type} ${r.name}`);
  });

  it("installs Cilium first: everything else depends on the Cilium release, Cilium on nothing of theirs", () => {
    const cilium = rec.find(RELEASE, "cilium");
    assert.equal(cilium.inputs.namespace, "kube-system");
    for (const r of addonResources(rec)) {
      if (r === cilium) continue;
      assert.ok(rec.dependsOn(r, cilium), `${r.type} ${r.name} depends on Cilium`);
      assert.ok(!rec.dependsOn(cilium, r), `Cilium must not depend on ${r.type} ${r.name}`);
    }
  });

  it("pins each release to the chart, version and repository of components/versions.ts", () => {
    for (const addon of ["cilium", "metallb", "openebs", "flux"] as const) {
      const r = rec.find(RELEASE, addon);
      assert.equal(r.inputs.name, addon);
      assert.equal(r.inputs.chart, CHARTS[addon].chart);
      assert.equal(r.inputs.version, CHARTS[addon].version);
      assert.deepEqual(r.inputs.repositoryOpts, { repo: CHARTS[addon].repository });
      assert.notEqual(r.inputs.skipAwait, true, "releases wait for readiness");
    }
    assert.equal(rec.find(RELEASE, "metallb").inputs.namespace, "metallb-system");
    assert.equal(rec.find(RELEASE, "openebs").inputs.namespace, "openebs");
    assert.equal(rec.find(RELEASE, "flux").inputs.namespace, "flux-system");
  });

  it("honours a version override and merges user values last", async () => {
    const { rec: r } = await runAddons({
      cilium: { version: "1.16.4", values: { hubble: { enabled: false }, ipam: { mode: "cluster-pool" } } },
    });
    const cilium = r.find(RELEASE, "cilium");
    assert.equal(cilium.inputs.version, "1.16.4");
    const values = cilium.inputs.values as Record<string, unknown>;
    assert.deepEqual(values.ipam, { mode: "cluster-pool" });
    assert.deepEqual(values.hubble, { enabled: false });
    assert.equal(values.kubeProxyReplacement, true);
  });

  it("labels the MetalLB and OpenEBS namespaces privileged for PodSecurity", () => {
    for (const ns of ["metallb-system", "openebs"]) {
      const r = rec.find(NAMESPACE, ns);
      const metadata = r.inputs.metadata as { name: string; labels: Record<string, string> };
      assert.equal(metadata.name, ns);
      assert.deepEqual(metadata.labels, {
        "pod-security.kubernetes.io/enforce": "privileged",
        "pod-security.kubernetes.io/audit": "privileged",
        "pod-security.kubernetes.io/warn": "privileged",
      });
      assert.ok(rec.dependsOn(rec.find(RELEASE, ns === "openebs" ? "openebs" : "metallb"), r));
    }
  });

  it("creates MetalLB's pools and L2Advertisement after its release", () => {
    const release = rec.find(RELEASE, "metallb");
    const pools = rec.byType(POOL);
    assert.equal(pools.length, 2);
    for (const p of pools) {
      assert.equal(p.inputs.apiVersion, "metallb.io/v1beta1");
      assert.ok(p.dependencies.includes(release.urn), `${p.name} dependsOn the release`);
    }
    assert.deepEqual(rec.find(POOL, "metallb-pool-reserved").inputs.spec, {
      addresses: ["192.168.50.240/29"],
      autoAssign: false,
    });
    assert.deepEqual(rec.find(POOL, "metallb-pool-default").inputs.spec, {
      addresses: ["192.168.50.200-192.168.50.220"],
    });
    const l2 = rec.find(L2, "metallb-l2");
    assert.ok(l2.dependencies.includes(release.urn));
    assert.deepEqual(l2.inputs.spec, { ipAddressPools: ["default", "reserved"] });
    assert.equal((l2.inputs.metadata as { namespace: string }).namespace, "metallb-system");
  });

  it("skips the L2Advertisement when l2Advertisement is false", async () => {
    const { rec: r } = await runAddons({
      metallb: { ...FULL_CONFIG.metallb, l2Advertisement: false },
    });
    assert.equal(r.byType(L2).length, 0);
    assert.equal(r.byType(POOL).length, 2);
  });

  it("syncs Flux from Git after its release, decrypting with the sops-age Secret", () => {
    const release = rec.find(RELEASE, "flux");
    const repo = rec.find(GITREPO, "flux-gitrepository");
    const ks = rec.find(KUSTOMIZATION, "flux-kustomization");
    const creds = rec.find(SECRET, "flux-system-git");
    const sops = rec.find(SECRET, "sops-age");
    assert.ok(repo.dependencies.includes(release.urn));
    assert.ok(repo.dependencies.includes(creds.urn));
    assert.ok(ks.dependencies.includes(release.urn));
    assert.ok(ks.dependencies.includes(repo.urn));
    assert.ok(ks.dependencies.includes(sops.urn));
    assert.deepEqual(repo.inputs.spec, {
      interval: "1m",
      url: "https://github.com/me/fleet.git",
      ref: { branch: "main" },
      secretRef: { name: "flux-system" },
    });
    assert.deepEqual(ks.inputs.spec, {
      interval: "10m",
      path: "./clusters/homelab",
      prune: true,
      sourceRef: { kind: "GitRepository", name: "flux-system" },
      decryption: { provider: "sops", secretRef: { name: "sops-age" } },
    });
    assert.equal(repo.inputs.apiVersion, "source.toolkit.fluxcd.io/v1");
    assert.equal(ks.inputs.apiVersion, "kustomize.toolkit.fluxcd.io/v1");
    assert.deepEqual(creds.secretInputPaths, ["stringData"]);
    assert.deepEqual(creds.inputs.stringData, { username: "git", password: "s3cret-token" });
  });

  it("stores the age identity as Secret flux-system/sops-age key age.agekey, as a Pulumi secret", async () => {
    const sops = rec.find(SECRET, "sops-age");
    assert.deepEqual(sops.inputs.metadata, { name: "sops-age", namespace: "flux-system" });
    const identity = (await pulumiValue(full.outputs.sopsAgeIdentity)).value;
    assert.match(identity, /^AGE-SECRET-KEY-1[0-9A-Z]+$/);
    assert.deepEqual(sops.inputs.stringData, { "age.agekey": identity });
    assert.ok(sops.secretInputPaths.includes("stringData"));
    const age = rec.find(AGE_TYPE, "sops-age");
    assert.ok(age.additionalSecretOutputs.includes("identity"));
  });

  it("keeps the identity secret: a secret output, in no plain output or plain input", async () => {
    const identity = await pulumiValue(full.outputs.sopsAgeIdentity);
    assert.equal(identity.secret, true, "sopsAgeIdentity is a Pulumi secret");
    assert.equal(await pulumi.isSecret(full.outputs.sopsAgeIdentity!), true);
    const recipient = await pulumiValue(full.outputs.sopsRecipient);
    const sopsConfig = await pulumiValue(full.outputs.sopsConfig);
    assert.equal(recipient.secret, false, "the recipient is plain");
    assert.equal(sopsConfig.secret, false, "the .sops.yaml rule is plain");
    assert.match(recipient.value, /^age1[0-9a-z]+$/);
    assert.ok(sopsConfig.value.includes(`age: ${recipient.value}`));
    // Stack outputs and component outputs hold no identity.
    assert.deepEqual(pathsOf(rec.stackOutputs, identity.value), []);
    assert.deepEqual(pathsOf(rec.stackOutputs, "AGE-SECRET-KEY"), []);
    for (const r of rec.resources) {
      assert.deepEqual(pathsOf(r.outputs ?? {}, identity.value), [], `outputs of ${r.type} ${r.name}`);
      // Where an input carries it, the input is secret.
      for (const p of pathsOf(r.inputs, identity.value)) {
        assert.ok(
          r.secretInputPaths.some((s) => p === s || p.startsWith(`${s}.`) || p.startsWith(`${s}[`)),
          `${r.type} ${r.name} input ${p} holds the identity in plain text`,
        );
      }
    }
    assert.ok(rec.stackOutputs.sopsRecipient === recipient.value);
    assert.ok(!rec.secretStackOutputs.includes("sopsRecipient"));
  });

  it("the generated identity decrypts what its recipient encrypts (age round trip)", async () => {
    const age = await import("age-encryption");
    const identity = (await pulumiValue(full.outputs.sopsAgeIdentity)).value;
    const recipient = (await pulumiValue(full.outputs.sopsRecipient)).value;
    const e = new age.Encrypter();
    e.addRecipient(recipient);
    const sealed = await e.encrypt("stringData: {password: hunter2}");
    const d = new age.Decrypter();
    d.addIdentity(identity);
    assert.equal(await d.decrypt(sealed, "text"), "stringData: {password: hunter2}");
    const other = new age.Decrypter();
    other.addIdentity(await age.generateX25519Identity());
    await assert.rejects(other.decrypt(sealed, "text"));
  });

  it("adopts an imported identity instead of generating one", async () => {
    const age = await import("age-encryption");
    const imported = await age.generateX25519Identity();
    const run = await runAddons(FULL_CONFIG, { ageKey: imported });
    assert.equal((await pulumiValue(run.outputs.sopsAgeIdentity)).value, imported);
    assert.equal(
      (await pulumiValue(run.outputs.sopsRecipient)).value,
      await age.identityToRecipient(imported),
    );
    const ageRes = run.rec.find(AGE_TYPE, "sops-age");
    assert.ok(ageRes.secretInputPaths.includes("importedIdentity"));
  });

  describe("toggles", () => {
    const cases: Array<[keyof typeof OWNED, Record<string, unknown>]> = [
      ["cilium", { cilium: { enabled: false } }],
      ["metallb", { metallb: { ...FULL_CONFIG.metallb, enabled: false } }],
      ["openebs", { openebs: { enabled: false } }],
      ["flux", { flux: { ...FULL_CONFIG.flux, enabled: false } }],
      ["sops", { sops: { enabled: false } }],
    ];
    for (const [addon, patch] of cases) {
      it(`turning ${addon} off removes exactly its resources`, async () => {
        const { rec: r } = await runAddons({ ...FULL_CONFIG, ...patch });
        const before = resourceKeys(rec);
        const after = resourceKeys(r);
        const removed = [...before].filter((k) => !after.has(k)).sort();
        const added = [...after].filter((k) => !before.has(k));
        assert.deepEqual(removed, [...OWNED[addon]].sort());
        assert.deepEqual(added, []);
      });
    }

    it("without SOPS the Kustomization has no decryption and no sops outputs exist", async () => {
      const run = await runAddons({ ...FULL_CONFIG, sops: { enabled: false } });
      const ks = run.rec.find(KUSTOMIZATION, "flux-kustomization");
      assert.equal((ks.inputs.spec as Record<string, unknown>).decryption, undefined);
      assert.equal(run.outputs.sopsRecipient, undefined);
      assert.equal(run.outputs.sopsConfig, undefined);
    });

    it("without Cilium the other addons still wait for clusterReady", async () => {
      const { rec: r } = await runAddons({ ...FULL_CONFIG, cilium: { enabled: false } });
      const ready = r.find(READY_TYPE, "ready");
      for (const x of addonResources(r)) assert.ok(r.dependsOn(x, ready), `${x.type} ${x.name}`);
      assert.ok(r.find(RELEASE, "metallb").dependencies.includes(ready.urn));
    });

    it("Flux without git installs only the namespace and release (plus SOPS)", async () => {
      const { rec: r } = await runAddons({ flux: { enabled: true } }, { gitCredentials: false });
      assert.deepEqual(
        [...resourceKeys(r)].sort(),
        [
          `${RELEASE}::cilium`,
          `${RELEASE}::flux`,
          `${SECRET}::sops-age`,
          `${NAMESPACE}::flux-system`,
          `${AGE_TYPE}::sops-age`,
        ].sort(),
      );
    });

    it("a public Git repository gets no credentials Secret and no secretRef", async () => {
      const { rec: r } = await runAddons(FULL_CONFIG, { gitCredentials: false });
      assert.equal(r.tryFind(SECRET, "flux-system-git"), undefined);
      const spec = r.find(GITREPO, "flux-gitrepository").inputs.spec as Record<string, unknown>;
      assert.equal(spec.secretRef, undefined);
    });
  });
});

async function pulumiValue<T>(o: pulumi.Output<T> | undefined): Promise<{ value: T; secret: boolean }> {
  assert.ok(o, "output is defined");
  const secret = await pulumi.isSecret(o);
  const value = await new Promise<T>((resolve) => o.apply((v) => resolve(v)));
  return { value, secret };
}
