/**
 * Each default is stated once (components/defaults.ts): the stack-config schema, the components and
 * the dynamic-provider logic all end up with the same value, and `diff` reads a stored state through
 * the inputs' parser, so a state that omits a defaulted key equals inputs that carry the default.
 */
import * as assert from "node:assert/strict";
import { ClientCertsSchema, RolloutSchema } from "../../components/config/schema";
import { CLIENT_CERT_DEFAULTS, ROLLOUT_DEFAULTS, TIMEOUT_DEFAULTS } from "../../components/defaults";
import * as apply from "../../components/talos/resources/logic/apply";
import * as bootstrap from "../../components/talos/resources/logic/bootstrap";
import * as clientConfigs from "../../components/talos/resources/logic/client-configs";
import * as membership from "../../components/talos/resources/logic/membership";
import * as ready from "../../components/talos/resources/logic/ready";

const MTLS = { osCa: "ca", clientCert: "crt", clientKey: "key" };
const NODES = [{ name: "cp-1", address: "10.0.0.11" }];

describe("defaults: one value from the schema to the provider logic", () => {
  it("the schema's defaults are the module's", () => {
    assert.deepEqual(RolloutSchema.parse({}), ROLLOUT_DEFAULTS);
    assert.deepEqual(ClientCertsSchema.parse({}), CLIENT_CERT_DEFAULTS);
  });

  it("the logic parsers fill in the same defaults", () => {
    const applyIn = { node: "cp-1", address: "10.0.0.11", role: "controlplane", config: "c", ...MTLS };
    assert.equal(apply.parseApplyInputs(applyIn).timeoutSeconds, TIMEOUT_DEFAULTS.applySeconds);
    assert.equal(
      bootstrap.parseBootstrapInputs({ node: "cp-1", address: "10.0.0.11", ...MTLS }).timeoutSeconds,
      TIMEOUT_DEFAULTS.applySeconds,
    );
    assert.equal(
      ready.parseReadyInputs({ nodes: NODES, checkKubernetes: false, ...MTLS }).timeoutSeconds,
      TIMEOUT_DEFAULTS.readySeconds,
    );
    const m = membership.parseMembershipInputs({ nodes: [], ...MTLS });
    assert.equal(m.drainTimeoutSeconds, ROLLOUT_DEFAULTS.drainTimeoutSeconds);
    assert.equal(m.timeoutSeconds, TIMEOUT_DEFAULTS.applySeconds);
    const c = clientConfigs.parseClientConfigsInputs({
      secretsYaml: "s",
      clusterName: "homelab",
      endpoint: "https://10.0.0.5:6443",
      endpoints: ["10.0.0.11"],
    });
    assert.equal(c.renewBeforeDays, CLIENT_CERT_DEFAULTS.renewBeforeDays);
    assert.equal(c.validityDays, CLIENT_CERT_DEFAULTS.validityDays);
  });

  it("diff: a state without the defaulted key equals inputs with the default, and differs from another value", () => {
    const state = { node: "cp-1", address: "10.0.0.11", role: "controlplane", configHash: "h", ...MTLS };
    const news = { ...state, config: "c" };
    const same = { ...news, timeoutSeconds: TIMEOUT_DEFAULTS.applySeconds };
    assert.equal(apply.diff(state, same).changes, false);
    assert.deepEqual(apply.diff(state, { ...news, timeoutSeconds: 42 }).changes, true);

    const r = { nodes: NODES, checkKubernetes: false, ...MTLS };
    assert.equal(ready.diff(r, { ...r, timeoutSeconds: TIMEOUT_DEFAULTS.readySeconds }).changes, false);
    assert.equal(ready.diff(r, { ...r, timeoutSeconds: 5 }).changes, true);

    const mem = { nodes: [{ ...NODES[0], role: "controlplane" }], ...MTLS };
    const memNews = { ...mem, drainTimeoutSeconds: ROLLOUT_DEFAULTS.drainTimeoutSeconds };
    assert.equal(membership.diff(mem, memNews).changes, false);
    assert.equal(membership.diff(mem, { ...mem, drainTimeoutSeconds: 7 }).changes, true);
  });

  it("diff: a state written by an older version (keys missing, not even an object) is read, not refused", () => {
    const news = { node: "cp-1", address: "10.0.0.11", role: "worker", config: "c", ...MTLS };
    // No role in the old state: the node is kept (no replace), only the config hash differs.
    const d = apply.diff({ node: "cp-1", address: "10.0.0.11" }, news);
    assert.deepEqual(d.replaces, []);
    assert.equal(d.changes, true);
    assert.deepEqual(bootstrap.diff(undefined, { node: "cp-1", address: "10.0.0.11", ...MTLS }).replaces, []);
    // A new input that is malformed is still refused.
    assert.throws(() => apply.diff({}, { ...news, role: "boss" }), /role must be controlplane or worker/);
  });
});
