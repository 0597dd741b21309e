/** A deliberately broken variant of the sample stack, shared by the pack and launcher tests. */
import { cloneConfig, fakeKubeconfig, type RawConfig, sampleConfig, stackResources } from "./fixtures";
import type { ResourceSpec } from "./harness";

/** The sample stack broken in one place per policy. */
export function brokenStack(): ResourceSpec[] {
  const c = cloneConfig(sampleConfig()) as RawConfig & {
    nodes: Array<{ name: string; memoryMiB?: number }>;
    proxmox: { insecure: boolean };
    addons: { metallb: { pools: Array<{ name: string; addresses: string[] }> } };
  };
  c.production = true; // → vm-protected-in-production, once the VMs are built unprotected below
  c.talosVersion = "1.11.6"; // → Kubernetes 1.36.3 too new
  c.controlPlane = { vip: "192.168.50.13" }; // → cp-3's address
  c.nodes[1].memoryMiB = 1536; // cp-2 below 2 GiB
  c.proxmox.insecure = true; // in stack "homelab"
  c.addons.metallb.pools = [
    { name: "default", addresses: ["192.168.50.21", "192.168.50.200-192.168.50.220"] },
  ];
  return stackResources(c, { protect: false }).map((r): ResourceSpec => {
    const props = r.props ?? {};
    if (r.name === "worker-1" && r.type.endsWith(":VmLegacy")) {
      return { ...r, props: { ...props, cpu: { ...(props.cpu as object), type: "kvm64" } } };
    }
    if (r.name === "flux" && r.type.endsWith(":Release"))
      return { ...r, props: { ...props, version: "^2.18.0" } };
    if (r.name === "openebs" && r.type.endsWith(":Release"))
      return { ...r, props: { ...props, namespace: "default" } };
    if (r.type === "pulumi:pulumi:Stack")
      return { ...r, props: { ...props, debugKubeconfig: fakeKubeconfig("homelab") } };
    return r;
  });
}
