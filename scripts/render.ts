/**
 * `npm run render -- --stack <name> --out <dir> [--config-file <Pulumi.x.yaml>] [--secrets <secrets.yaml>]
 * [--with-secrets]`: offline, no Pulumi engine. Validates the stack config with the program's own
 * rules, reuses the given secrets bundle or generates one, and writes each node's machine config,
 * talosconfig, kubeconfig, schematic.yaml and a summary of the VMs. Without --with-secrets, the
 * machine configs go through the same redactor as the config views (an allowlist: patch secrets
 * such as a registry password or a `machine.files` content become markers too), the client configs
 * lose their keys, and secrets.yaml is not written. Every file is written 0600 through a temp file
 * (exclusive, no-follow) renamed into place; only schematic.yaml and summary.txt are 0644.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError } from "../components/config/errors";
import { configFromEntries, validateSource } from "../components/config/source";
import { readStackFile } from "../components/config/stack-file";
import { clusterPlan } from "../components/plan";
import { redactMachineConfig } from "../components/talos/machineconfig/redact";
import { renderMachineConfig } from "../components/talos/machineconfig/render";
import { generateAdminKubeconfig } from "../components/talos/pki/kubeconfig";
import {
  generateSecretsBundle,
  parseSecretsYaml,
  serializeSecretsYaml,
} from "../components/talos/pki/secrets";
import { generateTalosconfig } from "../components/talos/pki/talosconfig";
import { nodeConfigInput } from "../components/talos/talos-cluster";
import type { SecretsBundle } from "../components/talos/types";
import { writePrivateFile } from "./private-file";

/** Values of secret-bearing keys (PEM/base64 keys, tokens, secrets) → a short marker. */
export function redact(text: string, bundle: SecretsBundle): string {
  const b64 = (pem: string) => Buffer.from(pem).toString("base64");
  const secrets = [
    bundle.cluster.secret,
    bundle.secrets.bootstrapToken,
    bundle.secrets.secretboxEncryptionSecret,
    bundle.secrets.aescbcEncryptionSecret,
    bundle.trustdInfo.token,
    ...[bundle.certs.etcd, bundle.certs.k8s, bundle.certs.k8sAggregator, bundle.certs.os].map((c) =>
      b64(c.key),
    ),
    b64(bundle.certs.k8sServiceAccount.key),
  ].filter((s): s is string => typeof s === "string" && s.length > 0);
  let out = text;
  for (const s of secrets) out = out.split(s).join("<redacted>");
  // Client keys of talosconfig/kubeconfig are generated here, not in the bundle.
  return out.replace(/^(\s*(?:key|client-key-data):\s*)\S{40,}$/gm, "$1<redacted>");
}

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(argv: string[]): Promise<number> {
  const stack = arg(argv, "--stack") ?? "homelab";
  const out = arg(argv, "--out");
  if (!out) {
    console.error(
      "usage: npm run render -- --stack <name> --out <dir> [--config-file F] [--secrets F] [--with-secrets]",
    );
    return 2;
  }
  const withSecrets = argv.includes("--with-secrets");
  const file = arg(argv, "--config-file") ?? `Pulumi.${stack}.yaml`;
  // The program's own loader (components/config/source.ts) over the file, read as the Pulumi CLI does.
  const stackFile = readStackFile(file);
  const source = configFromEntries(stackFile.entries);
  for (const w of source.warnings) console.warn(`warning: ${w}`);
  // Offline: the Proxmox token is not needed to render, so a placeholder satisfies that rule.
  const cfg = validateSource(source, stackFile.issues, {
    proxmoxApiToken: "render@pve!offline=00000000-0000-0000-0000-000000000000",
  });
  const secretsFile = arg(argv, "--secrets");
  const bundle = secretsFile
    ? parseSecretsYaml(fs.readFileSync(secretsFile, "utf8"))
    : await generateSecretsBundle();

  fs.mkdirSync(out, { recursive: true, mode: 0o700 });
  const write = (name: string, text: string, mode = 0o600, view = (t: string) => redact(t, bundle)) => {
    writePrivateFile(path.join(out, name), withSecrets ? text : view(text), mode);
    console.log(`wrote ${path.join(out, name)}`);
  };
  // Keyed with the cluster secret, as in the program's views: markers reveal nothing.
  const configView = (t: string) => redact(redactMachineConfig(t, bundle.cluster.secret), bundle);
  if (withSecrets) write("secrets.yaml", serializeSecretsYaml(bundle), 0o600);

  // The same plan the program's HomelabCluster creates its resources from.
  const plan = clusterPlan(cfg);
  const id = plan.image.schematicId;
  for (const node of plan.talos.nodes) {
    write(
      `${node.name}.yaml`,
      renderMachineConfig(nodeConfigInput(plan.talos, node, bundle)),
      0o600,
      configView,
    );
  }
  const cps = cfg.nodes.filter((n) => n.role === "controlplane").map((n) => n.ip);
  const talosconfig = await generateTalosconfig({
    contextName: cfg.clusterName,
    endpoints: cps,
    nodes: cps,
    bundle,
  });
  write("talosconfig", talosconfig.yaml, 0o600);
  const kubeconfig = await generateAdminKubeconfig({
    clusterName: cfg.clusterName,
    endpoint: cfg.controlPlane.endpoint,
    bundle,
  });
  write("kubeconfig", kubeconfig.yaml, 0o600);
  write("schematic.yaml", `# schematic id: ${id}\n${plan.image.schematic}`, 0o644);
  const summary = [
    `cluster ${cfg.clusterName}: Talos ${cfg.talosVersion}, Kubernetes ${cfg.kubernetesVersion}, endpoint ${cfg.controlPlane.endpoint}`,
    `schematic ${id}`,
    ...cfg.nodes.map(
      (n) =>
        `${n.name}: ${n.role} ${n.ip}` +
        (cfg.proxmox
          ? ` on ${n.proxmoxNode} vm ${n.vmId}, ${n.cores} cores, ${n.memoryMiB} MiB, ${n.diskGiB} GiB`
          : " (existing machine)"),
    ),
  ].join("\n");
  write("summary.txt", `${summary}\n`, 0o644);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(
        err instanceof ConfigError ? err.message : String(err instanceof Error ? err.message : err),
      );
      process.exit(1);
    },
  );
}

export { main as renderMain };
