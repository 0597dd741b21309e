import * as assert from "node:assert/strict";
import { generatedPasswordProvider } from "../../components/addons/generated-password";

describe("GeneratedPassword provider", () => {
  it("creates a fresh 32-character URL-safe password each time", async () => {
    const a = await generatedPasswordProvider.create();
    const b = await generatedPasswordProvider.create();
    assert.match(a.outs.password, /^[A-Za-z0-9_-]{32}$/);
    assert.notEqual(a.outs.password, b.outs.password);
    assert.notEqual(a.id, b.id);
    assert.ok(!a.id.includes(a.outs.password), "the id reveals nothing");
  });

  it("never changes once made (no inputs), and reads back its state", async () => {
    assert.deepEqual(await generatedPasswordProvider.diff(), { changes: false });
    const made = await generatedPasswordProvider.create();
    assert.deepEqual(await generatedPasswordProvider.read(made.id, made.outs), {
      id: made.id,
      props: made.outs,
    });
  });
});
