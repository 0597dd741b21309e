import * as assert from "node:assert/strict";
import { decodeBech32, isAgeIdentity } from "../../components/config/bech32";

/** A fixed identity with a valid checksum (the test fixtures' key). */
const VALID_FIXTURE = "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZ9K4CN";

describe("bech32 (age keys): checksum as BIP-173 and the age library define it", () => {
  it("accepts identities and recipients the real age library makes, and what it decodes", async () => {
    const age = await import("age-encryption");
    for (let i = 0; i < 20; i++) {
      const identity = await age.generateIdentity();
      assert.equal(isAgeIdentity(identity), true, identity.slice(0, 20));
      const recipient = await age.identityToRecipient(identity);
      assert.equal(decodeBech32(recipient)?.hrp, "age");
    }
    // The fixture decodes in the real library too.
    assert.match(await age.identityToRecipient(VALID_FIXTURE), /^age1[0-9a-z]{58}$/);
    assert.equal(isAgeIdentity(VALID_FIXTURE), true);
  });

  it("refuses every one-character typo, a cut key, mixed case and a recipient", async () => {
    const age = await import("age-encryption");
    const identity = await age.generateIdentity();
    const alphabet = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";
    let typos = 0;
    for (let at = "AGE-SECRET-KEY-1".length; at < identity.length; at++) {
      const other = alphabet[(alphabet.indexOf(identity[at]!) + 1) % alphabet.length]!;
      const typo = identity.slice(0, at) + other + identity.slice(at + 1);
      assert.equal(isAgeIdentity(typo), false, `typo at ${at}`);
      // The real library refuses it too: our check only moves its refusal before anything runs.
      await assert.rejects(age.identityToRecipient(typo));
      typos++;
    }
    assert.equal(typos, 58);
    assert.equal(isAgeIdentity(identity.slice(0, -1)), false, "cut");
    assert.equal(
      isAgeIdentity(identity.slice(0, 20) + identity.slice(20).toLowerCase()),
      false,
      "mixed case",
    );
    assert.equal(isAgeIdentity(await age.identityToRecipient(identity)), false, "a recipient is no identity");
  });
});
