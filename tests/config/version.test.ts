import * as assert from "node:assert/strict";
import { NEWEST_TALOS_MINOR } from "../../components/talos-minors";
import {
  compareVersions,
  imageTag,
  isReleaseVersion,
  mustParseVersion,
  parseVersion,
  sameVersion,
} from "../../components/version";
import { requireOracle, runOracle } from "../helpers/shared";

describe("the one version type (components/version.ts)", () => {
  it("parses once into {major, minor, patch, plain, tag}, `v` or not", () => {
    for (const text of ["1.14.1", "v1.14.1", " v1.14.1 "]) {
      assert.deepEqual(parseVersion(text), {
        major: 1,
        minor: 14,
        patch: 1,
        prerelease: "",
        plain: "1.14.1",
        tag: "v1.14.1",
        minorKey: "1.14",
      });
    }
  });

  it("is tolerant like semver.ParseTolerant (missing patch, pre-release), strict where a release is needed", () => {
    assert.equal(parseVersion("1.14")?.plain, "1.14.0");
    assert.equal(parseVersion("v1.14.0-rc.1")?.tag, "v1.14.0-rc.1");
    assert.equal(parseVersion("1.14.0+build.5")?.plain, "1.14.0");
    for (const bad of ["", "v", "1", "1.x.0", "01.14.1", "1.14.1.2", "latest"]) {
      assert.equal(parseVersion(bad), undefined, bad);
    }
    assert.ok(isReleaseVersion("v1.37.2"));
    for (const notRelease of ["1.14", "1.14.0-rc.1", "1.14.0+build.5"])
      assert.ok(!isReleaseVersion(notRelease));
    assert.throws(
      () => mustParseVersion("1.x", "talosVersion"),
      /talosVersion "1.x" is not a version like 1.14.1/,
    );
  });

  it("orders versions and compares spellings", () => {
    const v = (s: string) => mustParseVersion(s, "v");
    assert.ok(compareVersions(v("1.13.10"), v("1.13.9")) > 0);
    assert.ok(compareVersions(v("1.14.0-rc.1"), v("1.14.0")) < 0);
    assert.equal(compareVersions(v("v1.14.1"), v("1.14.1")), 0);
    assert.ok(sameVersion("v1.37.2", "1.37.2"));
    assert.ok(!sameVersion("1.37.2", "1.37.3"));
    assert.ok(!sameVersion("nonsense", "nonsense"));
  });

  it("reads the tag of an image reference", () => {
    assert.equal(imageTag("factory.talos.dev/nocloud-installer/abc:v1.14.1"), "v1.14.1");
    assert.equal(imageTag("registry:5000/installer"), "");
    assert.equal(imageTag("registry:5000/installer:v1.13.9@sha256:00"), "v1.13.9");
  });

  it("reads tags as Talos' compatibility.ParseTalosVersion does (talos-oracle compat accepts `v` and bare)", function () {
    requireOracle(this, NEWEST_TALOS_MINOR.minor);
    const release = mustParseVersion(NEWEST_TALOS_MINOR.machineryRelease, "row");
    for (const spelling of [release.plain, release.tag]) {
      const r = runOracle(NEWEST_TALOS_MINOR.minor, [
        "compat",
        spelling,
        NEWEST_TALOS_MINOR.defaultKubernetes,
      ]);
      assert.equal(r.status, 0, `${spelling}: ${r.stdout}${r.stderr}`);
    }
  });
});
