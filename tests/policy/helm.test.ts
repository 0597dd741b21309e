import * as assert from "node:assert/strict";
import { helmNamespace, helmRepositoryHttps, helmVersionPinned } from "../../policy/helm";
import { sampleConfig, stackResources } from "./fixtures";
import { DELETE, edited, type ResourceSpec, violations } from "./harness";

const RELEASE = "kubernetes:helm.sh/v3:Release";

/** The sample stack's Helm releases, with the chart pins of components/versions.ts. */
function releases(): ResourceSpec[] {
  return stackResources(sampleConfig()).filter((r) => r.type === RELEASE);
}

function cilium(edits: ReadonlyArray<readonly [string, unknown]> = []): ResourceSpec {
  const base = releases().find((r) => r.name === "cilium");
  assert.ok(base);
  return { ...base, props: edited(base.props, edits) };
}

describe("policy: Helm", () => {
  it("the sample stack has its four addon releases", () => assert.equal(releases().length, 4));

  describe("helm-chart-version-pinned (mandatory)", () => {
    it("passes every pinned addon chart", async () => {
      for (const r of releases()) assert.deepEqual(await violations(helmVersionPinned, r), [], r.name);
    });
    for (const range of ["^1.16.0", "~1.16", ">=1.16.0", "1.16.x", "*", "1.16", "1.16.0 || 1.17.0"]) {
      it(`flags the range ${JSON.stringify(range)}`, async () => {
        const got = await violations(helmVersionPinned, cilium([["version", range]]));
        assert.equal(got.length, 1);
        assert.match(got[0], /a range rather than one release/);
      });
    }
    it("flags an empty or missing version", async () => {
      assert.match(
        (await violations(helmVersionPinned, cilium([["version", ""]])))[0],
        /has no chart version/,
      );
      assert.match(
        (await violations(helmVersionPinned, cilium([["version", DELETE]])))[0],
        /has no chart version/,
      );
    });
    it("accepts pre-releases and a leading v", async () => {
      assert.deepEqual(await violations(helmVersionPinned, cilium([["version", "1.17.0-rc.1"]])), []);
      assert.deepEqual(await violations(helmVersionPinned, cilium([["version", "v1.16.3"]])), []);
    });
    it("skips local chart paths", async () => {
      assert.deepEqual(
        await violations(
          helmVersionPinned,
          cilium([
            ["chart", "./charts/x"],
            ["version", DELETE],
          ]),
        ),
        [],
      );
    });
  });

  describe("helm-repository-https (mandatory)", () => {
    it("passes every addon repository", async () => {
      for (const r of releases()) assert.deepEqual(await violations(helmRepositoryHttps, r), [], r.name);
    });
    it("flags a plain-http repository", async () => {
      const got = await violations(
        helmRepositoryHttps,
        cilium([["repositoryOpts.repo", "http://helm.cilium.io/"]]),
      );
      assert.equal(got.length, 1);
      assert.match(got[0], /from "http:\/\/helm\.cilium\.io\/", not over https\/oci/);
    });
    it("flags a chart without a repository", async () => {
      assert.match(
        (await violations(helmRepositoryHttps, cilium([["repositoryOpts", DELETE]])))[0],
        /without repositoryOpts\.repo/,
      );
    });
    it("accepts an OCI chart, flags a chart URL over http", async () => {
      const oci = cilium([
        ["repositoryOpts", DELETE],
        ["chart", "oci://ghcr.io/example/charts/cilium"],
      ]);
      assert.deepEqual(await violations(helmRepositoryHttps, oci), []);
      const http = cilium([
        ["repositoryOpts", DELETE],
        ["chart", "http://example.com/cilium-1.16.3.tgz"],
      ]);
      assert.match((await violations(helmRepositoryHttps, http))[0], /over http, not https\/oci/);
    });
    it("takes the allowed schemes from policy config", async () => {
      const got = await violations(helmRepositoryHttps, cilium(), { allowedSchemes: ["oci"] });
      assert.equal(got.length, 1);
    });
  });

  describe("helm-no-default-namespace (advisory)", () => {
    it("passes every addon's own namespace", async () => {
      for (const r of releases()) assert.deepEqual(await violations(helmNamespace, r), [], r.name);
    });
    it("flags default and an unset namespace", async () => {
      assert.match(
        (await violations(helmNamespace, cilium([["namespace", "default"]])))[0],
        /namespace "default"/,
      );
      assert.match(
        (await violations(helmNamespace, cilium([["namespace", DELETE]])))[0],
        /sets no namespace/,
      );
    });
    it("takes forbidden namespaces from policy config", async () => {
      assert.equal(
        (await violations(helmNamespace, cilium(), { forbiddenNamespaces: ["kube-system"] })).length,
        1,
      );
    });
    it("ignores other resource types", async () => {
      assert.deepEqual(
        await violations(helmNamespace, { type: "kubernetes:core/v1:Namespace", name: "x", props: {} }),
        [],
      );
    });
    it("is advisory", () => assert.equal(helmNamespace.enforcementLevel, "advisory"));
  });
});
