/** The recording mocks of tests/helpers/mocks.ts, on a tiny program of their own. */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { recordProgram } from "../helpers/mocks";

class Thing extends pulumi.CustomResource {
  declare readonly value: pulumi.Output<string>;
  constructor(name: string, props: { value?: pulumi.Input<string> }, opts?: pulumi.CustomResourceOptions) {
    super("test:index:Thing", name, props, opts);
  }
}

class Group extends pulumi.ComponentResource {
  public readonly inner: Thing;
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("test:index:Group", name, {}, opts);
    this.inner = new Thing(`${name}-inner`, { value: "x" }, { parent: this });
    this.registerOutputs({ plain: "p", hidden: pulumi.secret("s") });
  }
}

describe("tests/helpers/mocks recorder", () => {
  it("records parents, explicit and input dependencies, component outputs and stack outputs", async () => {
    const rec = await recordProgram(() => {
      const a = new Thing("a", { value: pulumi.secret("shh") });
      const g = new Group("g");
      const b = new Thing("b", { value: a.value }, { dependsOn: [g] });
      return { out: b.value, secretOut: pulumi.secret("x") };
    });
    const a = rec.find("test:index:Thing", "a");
    const b = rec.find("test:index:Thing", "b");
    const g = rec.find("test:index:Group", "g");
    const inner = rec.find("test:index:Thing", "g-inner");
    assert.equal(g.custom, false);
    assert.equal(a.custom, true);
    assert.equal(inner.parentUrn, g.urn);
    assert.deepEqual(a.secretInputPaths, ["value"]);
    assert.equal(a.inputs.value, "shh");
    assert.deepEqual(b.propertyDependencies.value, [a.urn]);
    assert.ok(b.dependencies.includes(a.urn));
    assert.ok(rec.dependsOn(b, a));
    assert.ok(rec.dependsOn(b, inner), "a component dependency stands for its children");
    assert.ok(!rec.dependsOn(a, b));
    assert.deepEqual(g.outputs, { plain: "p", hidden: "s" });
    assert.deepEqual(g.secretOutputPaths, ["hidden"]);
    assert.deepEqual(rec.stackOutputs, { out: "shh", secretOut: "x" });
    assert.deepEqual([...rec.secretStackOutputs].sort(), ["out", "secretOut"]);
    assert.throws(
      () => rec.find("test:index:Thing", "nope"),
      /expected one test:index:Thing "nope", found 0/,
    );
  });
});
