import * as assert from "node:assert/strict";
import { helmMerge } from "../../components/addons/values";

describe("helmMerge (Helm values semantics)", () => {
  it("merges maps key by key, recursively", () => {
    assert.deepEqual(helmMerge({ a: { b: 1, c: { d: 2 } }, x: 1 }, { a: { c: { e: 3 } }, y: 2 }), {
      a: { b: 1, c: { d: 2, e: 3 } },
      x: 1,
      y: 2,
    });
  });
  it("replaces lists whole and scalars", () => {
    assert.deepEqual(helmMerge({ l: [1, 2, 3], s: "a" }, { l: [9], s: "b" }), { l: [9], s: "b" });
  });
  it("deletes a key set to null, at any depth, and drops nulls in new maps", () => {
    assert.deepEqual(
      helmMerge({ a: { b: 1, c: 2 }, d: 4 }, { a: { b: null }, d: null, n: { k: null, v: 1 } }),
      {
        a: { c: 2 },
        n: { v: 1 },
      },
    );
  });
  it("replaces a map with a scalar and vice versa", () => {
    assert.deepEqual(helmMerge({ a: { b: 1 }, c: 1 }, { a: false, c: { d: 1 } }), { a: false, c: { d: 1 } });
  });
  it("leaves its arguments untouched", () => {
    const base = { a: { b: [1] } };
    const over = { a: { c: { d: 1 } } };
    const merged = helmMerge(base, over);
    (merged.a as { c: { d: number } }).c.d = 2;
    assert.deepEqual(base, { a: { b: [1] } });
    assert.deepEqual(over, { a: { c: { d: 1 } } });
  });
  it("treats an undefined override as empty", () => {
    assert.deepEqual(helmMerge({ a: 1 }, undefined), { a: 1 });
  });
});
