import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { parseSecretsYaml } from "../../components/talos/pki/secrets";
import { renderMain } from "../../scripts/render";
import { PROJECT_ROOT, tempDir } from "../helpers/shared";

const FILES = [
  "cp-1.yaml",
  "cp-2.yaml",
  "cp-3.yaml",
  "worker-1.yaml",
  "talosconfig",
  "kubeconfig",
  "schematic.yaml",
  "summary.txt",
];
// base64 of "-----BEGIN " + key labels: present wherever a PEM private key sits base64-encoded.
const KEY_MARKERS = [
  "LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS",
  "LS0tLS1CRUdJTiBFRDI1NTE5IFBSSVZBVEUgS0VZ",
  "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVkt",
];

describe("npm run render (offline)", function () {
  this.timeout(60_000);
  const file = path.join(PROJECT_ROOT, "Pulumi.homelab.yaml");

  it("with --with-secrets writes secrets.yaml (0600) and every node's config carrying its secrets", async () => {
    const out = tempDir();
    assert.equal(
      await renderMain(["--stack", "homelab", "--config-file", file, "--out", out, "--with-secrets"]),
      0,
    );
    for (const f of ["secrets.yaml", ...FILES]) assert.ok(fs.existsSync(path.join(out, f)), f);
    assert.equal(fs.statSync(path.join(out, "secrets.yaml")).mode & 0o777, 0o600);
    const bundle = parseSecretsYaml(fs.readFileSync(path.join(out, "secrets.yaml"), "utf8"));
    assert.ok(fs.readFileSync(path.join(out, "cp-1.yaml"), "utf8").includes(bundle.trustdInfo.token));
    assert.match(
      fs.readFileSync(path.join(out, "summary.txt"), "utf8"),
      /worker-1: worker 192\.168\.50\.21 on pve2 vm 8201/,
    );
  });

  it("without --with-secrets redacts all key material and writes no secrets.yaml", async () => {
    const out = tempDir();
    const secrets = tempDir();
    await renderMain(["--config-file", file, "--out", secrets, "--with-secrets"]);
    const bundleFile = path.join(secrets, "secrets.yaml");
    const bundle = parseSecretsYaml(fs.readFileSync(bundleFile, "utf8"));
    assert.equal(await renderMain(["--config-file", file, "--out", out, "--secrets", bundleFile]), 0);
    assert.ok(!fs.existsSync(path.join(out, "secrets.yaml")));
    for (const f of FILES) {
      const text = fs.readFileSync(path.join(out, f), "utf8");
      for (const m of KEY_MARKERS) assert.ok(!text.includes(m), `${f} holds a private key`);
      for (const s of [bundle.cluster.secret, bundle.secrets.bootstrapToken, bundle.trustdInfo.token]) {
        assert.ok(!text.includes(s), `${f} holds a secret value`);
      }
    }
    assert.match(fs.readFileSync(path.join(out, "cp-1.yaml"), "utf8"), /<redacted hmac:[0-9a-f]{8}>/);
  });

  it("without --with-secrets patch secrets are redacted like the config views (registry password, file content)", async () => {
    const doc = YAML.parse(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
    doc.config["proxmox-talos:patches"] = {
      all: [
        {
          machine: {
            registries: { config: { "reg.lan": { auth: { username: "bot", password: "REG-PASS-4711" } } } },
            files: [
              { path: "/var/etc/app/token", permissions: 0o600, op: "create", content: "FILE-TOKEN-0815" },
            ],
          },
        },
      ],
    };
    const stackFile = path.join(tempDir(), "Pulumi.homelab.yaml");
    fs.writeFileSync(stackFile, YAML.stringify(doc));
    const out = tempDir();
    assert.equal(await renderMain(["--config-file", stackFile, "--out", out]), 0);
    for (const n of ["cp-1.yaml", "worker-1.yaml"]) {
      const text = fs.readFileSync(path.join(out, n), "utf8");
      assert.ok(
        !text.includes("REG-PASS-4711") && !text.includes("FILE-TOKEN-0815"),
        `${n} leaks a patch secret`,
      );
      assert.match(text, /username: bot/);
    }
    const full = tempDir();
    await renderMain(["--config-file", stackFile, "--out", full, "--with-secrets"]);
    assert.ok(fs.readFileSync(path.join(full, "cp-1.yaml"), "utf8").includes("REG-PASS-4711"));
  });

  it("--with-secrets into a directory of 0644 files and a planted symlink: every secret file ends up 0600, the link target untouched", async () => {
    const out = tempDir();
    const elsewhere = path.join(tempDir(), "victim");
    fs.writeFileSync(elsewhere, "do not overwrite\n", { mode: 0o644 });
    for (const f of ["secrets.yaml", "cp-1.yaml", "kubeconfig"])
      fs.writeFileSync(path.join(out, f), "old\n", { mode: 0o644 });
    fs.chmodSync(path.join(out, "cp-1.yaml"), 0o644);
    fs.symlinkSync(elsewhere, path.join(out, "talosconfig"));
    assert.equal(await renderMain(["--config-file", file, "--out", out, "--with-secrets"]), 0);
    for (const f of [
      "secrets.yaml",
      "cp-1.yaml",
      "cp-2.yaml",
      "worker-1.yaml",
      "talosconfig",
      "kubeconfig",
    ]) {
      const st = fs.lstatSync(path.join(out, f));
      assert.ok(st.isFile(), `${f} is a regular file`);
      assert.equal(st.mode & 0o777, 0o600, f);
    }
    assert.equal(fs.readFileSync(elsewhere, "utf8"), "do not overwrite\n");
    assert.deepEqual(
      fs.readdirSync(out).filter((f) => f.endsWith(".tmp")),
      [],
      "no temp file left",
    );
  });
});
