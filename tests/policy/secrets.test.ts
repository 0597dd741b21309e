import * as assert from "node:assert/strict";
import { credentialKind, findCredentials } from "../../policy/lib/secrets";
import { proxmoxTls, secretOutputs } from "../../policy/secrets";
import {
  cloneConfig,
  FAKE_AGE_IDENTITY,
  fakeKubeconfig,
  fakeTalosconfig,
  sampleConfig,
  stackResources,
} from "./fixtures";
import {
  linkParents,
  type Outcome,
  policyResource,
  type ResourceSpec,
  runStackPolicy,
  stackArgs,
  UNKNOWN_STRING,
  urnOf,
} from "./harness";

function run(
  policy: typeof proxmoxTls | typeof secretOutputs,
  specs: ResourceSpec[],
  config: object = {},
): Promise<Outcome> {
  return runStackPolicy(policy, stackArgs(linkParents(specs.map(policyResource)), config));
}

function insecureStack(stack?: string): ResourceSpec[] {
  const c = cloneConfig(sampleConfig());
  (c.proxmox as { insecure: boolean }).insecure = true;
  return stackResources(c, stack ? { stack } : {});
}

function withStackOutputs(outputs: Record<string, unknown>): ResourceSpec[] {
  return stackResources(sampleConfig()).map((r) =>
    r.type === "pulumi:pulumi:Stack" ? { ...r, props: { ...r.props, ...outputs } } : r,
  );
}

describe("policy: secrets", () => {
  describe("proxmox-provider-tls-verified (mandatory)", () => {
    it("passes the sample stack (insecure: false)", async () => {
      assert.deepEqual((await run(proxmoxTls, stackResources(sampleConfig()))).violations, []);
    });
    it("flags insecure: true once, on the provider", async () => {
      const outcome = await run(proxmoxTls, insecureStack());
      assert.equal(outcome.violations.length, 1);
      assert.match(
        outcome.violations[0].message,
        /Proxmox provider proxmox skips TLS verification .* stack "homelab"/,
      );
      assert.ok(outcome.violations[0].urn?.endsWith("pulumi:providers:proxmoxve::proxmox"));
    });
    it("tolerates insecure: true in test stacks (default patterns and policy config)", async () => {
      for (const stack of ["test-123", "ephemeral-pr-7", "ci-main"]) {
        assert.deepEqual((await run(proxmoxTls, insecureStack(stack))).violations, [], stack);
      }
      assert.deepEqual((await run(proxmoxTls, insecureStack(), { testStacks: ["home*"] })).violations, []);
    });
    it("reads insecure in its string form and from a resource's provider reference alone", async () => {
      const provider = {
        type: "pulumi:providers:proxmoxve",
        name: "default_8_6_0",
        urn: urnOf("pulumi:providers:proxmoxve", "default_8_6_0"),
        props: { insecure: "true" },
      };
      const vm: ResourceSpec = {
        type: "proxmoxve:index/vmLegacy:VmLegacy",
        name: "cp-1",
        provider,
        props: {},
      };
      const outcome = await run(proxmoxTls, [vm]);
      assert.equal(outcome.violations.length, 1);
      assert.equal(outcome.violations[0].urn, provider.urn);
    });
  });

  describe("credential detection", () => {
    it("recognizes talosconfig and kubeconfig keys, age identities, API tokens and PEM keys", () => {
      assert.equal(credentialKind(fakeTalosconfig("c")), "a base64-encoded private key");
      assert.equal(credentialKind(fakeKubeconfig("c")), "a base64-encoded private key");
      assert.match(credentialKind(`# created\n${FAKE_AGE_IDENTITY}\n`) ?? "", /age identity/);
      assert.match(credentialKind("root@pam!pulumi=0b8a2c4e-1f3d-4e5a-9b6c-7d8e9f0a1b2c") ?? "", /API token/);
      assert.match(credentialKind("-----BEGIN EC PRIVATE KEY-----\nMHc=\n") ?? "", /PEM private key/);
    });
    it("passes public material: age recipients, certificates, endpoints", () => {
      for (const text of [
        "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        Buffer.from("-----BEGIN CERTIFICATE-----\nMIIBxTCCAWugAwIBAgIQ\n-----END CERTIFICATE-----").toString(
          "base64",
        ),
        "https://192.168.50.10:6443",
      ]) {
        assert.equal(credentialKind(text), undefined, text);
      }
    });
    it("walks nested values and names the path", () => {
      assert.deepEqual(findCredentials({ a: [{ b: FAKE_AGE_IDENTITY }] }, "out"), [
        { path: "out.a[0].b", kind: "an age identity (AGE-SECRET-KEY-1...)" },
      ]);
    });
  });

  describe("credentials-only-in-secret-outputs (mandatory)", () => {
    it("passes the sample stack: credentials only under talosconfig/kubeconfig", async () => {
      assert.deepEqual((await run(secretOutputs, stackResources(sampleConfig()))).violations, []);
    });
    it("flags a kubeconfig exported under another name", async () => {
      const outcome = await run(secretOutputs, withStackOutputs({ adminConfig: fakeKubeconfig("homelab") }));
      assert.equal(outcome.violations.length, 1);
      assert.match(
        outcome.violations[0].message,
        /^stack output "adminConfig" carries a base64-encoded private key/,
      );
      assert.ok(outcome.violations[0].urn?.endsWith("pulumi:pulumi:Stack::proxmox-talos-homelab"));
    });
    it("checks HomelabCluster's outputs by default", async () => {
      const specs = stackResources(sampleConfig()).map((r) =>
        r.type === "proxmox-talos:index:HomelabCluster"
          ? { ...r, props: { ...r.props, adminKey: FAKE_AGE_IDENTITY } }
          : r,
      );
      const outcome = await run(secretOutputs, specs);
      assert.equal(outcome.violations.length, 1);
      assert.ok(outcome.violations[0].urn?.endsWith("proxmox-talos:index:HomelabCluster::homelab"));
    });
    it("flags an age identity inside the outputs of a component named in policy config", async () => {
      const specs = stackResources(sampleConfig()).map((r) =>
        r.type === "proxmox-talos:index:ClusterAddons"
          ? { ...r, props: { sops: { config: FAKE_AGE_IDENTITY } } }
          : r,
      );
      assert.deepEqual((await run(secretOutputs, specs)).violations, [], "not checked by default");
      const outcome = await run(secretOutputs, specs, { components: ["proxmox-talos:index:*"] });
      assert.equal(outcome.violations.length, 1);
      assert.match(
        outcome.violations[0].message,
        /output of proxmox-talos:index:ClusterAddons addons "sops\.config" carries an age identity/,
      );
    });
    it("flags a ServiceAccount token (the Headlamp tokens) outside its designated secret outputs", async () => {
      const payload = Buffer.from(
        JSON.stringify({
          iss: "kubernetes/serviceaccount",
          sub: "system:serviceaccount:headlamp:headlamp-admin",
        }),
      ).toString("base64url");
      const token = `eyJhbGciOiJSUzI1NiJ9.${payload}.c2ln`;
      const outcome = await run(secretOutputs, withStackOutputs({ adminToken: token }));
      assert.equal(outcome.violations.length, 1);
      assert.match(
        outcome.violations[0].message,
        /^stack output "adminToken" carries a Kubernetes ServiceAccount token/,
      );
      for (const name of ["headlampAdminToken", "headlampViewerToken"]) {
        assert.deepEqual(
          (await run(secretOutputs, withStackOutputs({ [name]: token }))).violations,
          [],
          name,
        );
      }
      // Other JWTs (an OIDC id token) are not ServiceAccount tokens.
      const other = `eyJhbGciOiJSUzI1NiJ9.${Buffer.from('{"sub":"alice"}').toString("base64url")}.c2ln`;
      assert.deepEqual((await run(secretOutputs, withStackOutputs({ note: other }))).violations, []);
    });
    it("accepts the age identity under a designated name, and names from policy config", async () => {
      assert.deepEqual(
        (await run(secretOutputs, withStackOutputs({ sopsAgeKey: FAKE_AGE_IDENTITY }))).violations,
        [],
      );
      const specs = withStackOutputs({ adminConfig: fakeKubeconfig("homelab") });
      assert.deepEqual(
        (await run(secretOutputs, specs, { secretOutputs: ["talosconfig", "kubeconfig", "adminConfig"] }))
          .violations,
        [],
      );
    });
    it("does not look at provider inputs or other packages' resources", async () => {
      // The provider holds the API token (secret in the program); it is not an output of the stack.
      const specs = stackResources(sampleConfig());
      assert.ok(specs.some((r) => JSON.stringify(r.props ?? {}).includes("root@pam!pulumi=")));
      assert.deepEqual((await run(secretOutputs, specs)).violations, []);
    });
    it("skips outputs that are unknown during preview", async () => {
      const outcome = await run(
        secretOutputs,
        withStackOutputs({ talosconfig: UNKNOWN_STRING, debug: UNKNOWN_STRING }),
      );
      assert.deepEqual(outcome.violations, []);
      assert.equal(outcome.unknown, undefined);
    });
  });
});
