/**
 * Network parts of a node's machine config that differ between the single-document (Talos ≤ 1.11)
 * and the multi-document (Talos 1.12+) layout: hostname, nameservers and the shared control-plane VIP.
 *
 * Addresses are not set here: Proxmox hands each VM its static IP through the nocloud drive, and
 * Talos merges that platform network config with the machine config.
 */
import { VIP_LINK_ALIAS } from "../constants";
import type { PlainObject } from "./patch-yaml";

/**
 * Which link of the node carries the shared VIP.
 * - `physical`: the node's (single) physical Ethernet link, whatever the kernel named it (default).
 * - `mac`: the link with this permanent MAC address (e.g. the Proxmox VM's net0 MAC).
 * - `name`: a fixed link name such as `eth0` / `ens18` (only if naming is known to be stable).
 */
export type VipLink =
  | { readonly kind: "physical" }
  | { readonly kind: "mac"; readonly mac: string }
  | { readonly kind: "name"; readonly name: string };

export const DEFAULT_VIP_LINK: VipLink = { kind: "physical" };

/** `machine.network.interfaces[]` entry (≤ 1.11) carrying the VIP. */
export function legacyVipInterface(vip: string, link: VipLink): PlainObject {
  const entry: PlainObject = {};
  switch (link.kind) {
    case "physical":
      entry.deviceSelector = { physical: true };
      break;
    case "mac":
      entry.deviceSelector = { hardwareAddr: link.mac.toLowerCase() };
      break;
    case "name":
      entry.interface = link.name;
      break;
  }
  // No `dhcp`/`addresses`: the address comes from the platform (nocloud) config.
  entry.vip = { ip: vip };
  return entry;
}

/** CEL selector expression matching the VIP link (LinkAliasConfig, 1.12+). */
export function linkSelectorExpression(link: Exclude<VipLink, { kind: "name" }>): string {
  if (link.kind === "mac") return `mac(link.permanent_addr) == "${link.mac.toLowerCase()}"`;
  // Talos' own notion of "physical": Ethernet (ARPHRD_ETHER = 1) without a link kind (no bond/vlan/…).
  return `link.type == 1 && link.kind == ""`;
}

/**
 * Documents (1.12+) attaching the VIP: a `LinkAliasConfig` naming the selected link
 * `VIP_LINK_ALIAS` (unless a fixed name is given) and a `Layer2VIPConfig` on that link.
 */
export function vipDocuments(vip: string, link: VipLink): PlainObject[] {
  if (link.kind === "name") {
    return [{ apiVersion: "v1alpha1", kind: "Layer2VIPConfig", name: vip, link: link.name }];
  }
  return [
    {
      apiVersion: "v1alpha1",
      kind: "LinkAliasConfig",
      name: VIP_LINK_ALIAS,
      selector: { match: linkSelectorExpression(link) },
    },
    { apiVersion: "v1alpha1", kind: "Layer2VIPConfig", name: vip, link: VIP_LINK_ALIAS },
  ];
}

/** `HostnameConfig` (1.12+) with a static hostname (no `auto`). */
export function hostnameDocument(hostname: string): PlainObject {
  return { apiVersion: "v1alpha1", kind: "HostnameConfig", hostname };
}

/** `ResolverConfig` (1.12+) with the nameservers. */
export function resolverDocument(nameservers: readonly string[]): PlainObject {
  return {
    apiVersion: "v1alpha1",
    kind: "ResolverConfig",
    nameservers: nameservers.map((address) => ({ address })),
  };
}
