import * as assert from "node:assert/strict";

describe("runner", () => {
  it("runs TypeScript tests", () => {
    assert.equal([1, 2, 3].length, 3);
  });
});
