/**
 * The AgeIdentity dynamic provider: generates once, keeps the identity across updates, replaces
 * only when the imported identity changes, and survives Pulumi's closure serialization.
 */
import * as assert from "node:assert/strict";
import Module from "node:module";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ageIdentityProvider, sopsCreationRule } from "../../components/addons/age-identity";
import { PROJECT_ROOT } from "../helpers/shared";

/** Loads a serialized function module the way Pulumi's dynamic provider host does (`Module._compile`). */
function loadSerialized(text: string): Record<string, unknown> {
  const filename = path.join(PROJECT_ROOT, "__serialized_dynamic_provider__.js");
  const m = new Module(filename) as Module & { _compile(code: string, file: string): void };
  m.filename = filename;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(PROJECT_ROOT);
  m._compile(text, filename);
  return m.exports as Record<string, unknown>;
}

describe("AgeIdentity provider", () => {
  it("generates an X25519 identity and its recipient", async () => {
    const { id, outs } = await ageIdentityProvider.create({});
    assert.match(outs.identity, /^AGE-SECRET-KEY-1[0-9A-Z]+$/);
    assert.match(outs.recipient, /^age1[0-9a-z]{58}$/);
    assert.equal(id, outs.recipient, "the id is public");
    assert.equal(outs.imported, false);
    const age = await import("age-encryption");
    assert.equal(await age.identityToRecipient(outs.identity), outs.recipient);
  });

  it("generates a different identity per resource", async () => {
    const a = await ageIdentityProvider.create({});
    const b = await ageIdentityProvider.create({});
    assert.notEqual(a.outs.identity, b.outs.identity);
  });

  it("reports no changes on later updates of a generated identity", async () => {
    const { id, outs } = await ageIdentityProvider.create({});
    assert.deepEqual(await ageIdentityProvider.diff(id, outs, {}), {
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  it("replaces only when the imported identity is set, changed or removed", async () => {
    const age = await import("age-encryption");
    const k1 = await age.generateX25519Identity();
    const k2 = await age.generateX25519Identity();
    const generated = await ageIdentityProvider.create({});
    const imported = await ageIdentityProvider.create({ importedIdentity: k1 });
    assert.equal(imported.outs.identity, k1);
    assert.equal(imported.outs.imported, true);
    assert.equal(
      (await ageIdentityProvider.diff(generated.id, generated.outs, { importedIdentity: k1 })).changes,
      true,
    );
    assert.equal(
      (await ageIdentityProvider.diff(imported.id, imported.outs, { importedIdentity: k1 })).changes,
      false,
    );
    assert.equal(
      (await ageIdentityProvider.diff(imported.id, imported.outs, { importedIdentity: ` ${k1}\n` })).changes,
      false,
      "surrounding whitespace is no change",
    );
    const changed = await ageIdentityProvider.diff(imported.id, imported.outs, { importedIdentity: k2 });
    assert.deepEqual(changed.replaces, ["importedIdentity"]);
    assert.equal((await ageIdentityProvider.diff(imported.id, imported.outs, {})).changes, true);
  });

  it("rejects an imported value that is no X25519 identity without echoing it", async () => {
    await assert.rejects(
      ageIdentityProvider.create({ importedIdentity: "not-a-key-s3cret" }),
      (err: Error) => {
        assert.match(err.message, /not an X25519 identity — set it to the AGE-SECRET-KEY-1/);
        assert.ok(!err.message.includes("s3cret"));
        return true;
      },
    );
  });

  it("serializes to a small self-contained module that still works", async () => {
    const provider = ageIdentityProvider;
    const serialized = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: false });
    assert.ok(serialized.text.length < 5000, `serialized provider is ${serialized.text.length} bytes`);
    assert.ok(!/require\("@pulumi\/pulumi"\)/.test(serialized.text), "captures no Pulumi SDK");
    assert.ok(serialized.text.includes('import("age-encryption")'), "loads age-encryption inside the method");
    const handler = loadSerialized(serialized.text)[
      serialized.exportName
    ] as () => typeof ageIdentityProvider;
    const loaded = handler();
    const { outs } = await loaded.create({});
    assert.match(outs.identity, /^AGE-SECRET-KEY-1/);
    assert.equal((await loaded.diff(outs.recipient, outs, {})).changes, false);
  });

  it("serializes each method on its own", async () => {
    for (const method of [ageIdentityProvider.create, ageIdentityProvider.diff, ageIdentityProvider.read]) {
      const s = await pulumi.runtime.serializeFunction(method);
      assert.ok(s.text.length < 3000);
    }
  });

  it("writes a .sops.yaml creation rule holding only the recipient", () => {
    const rule = sopsCreationRule("age1qqqq");
    assert.equal(
      rule,
      "creation_rules:\n  - path_regex: .*\\.ya?ml$\n    encrypted_regex: ^(data|stringData)$\n    age: age1qqqq\n",
    );
  });
});
