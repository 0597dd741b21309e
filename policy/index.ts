/**
 * The proxmox-talos CrossGuard policy pack. Run it with
 *   pulumi preview --policy-pack policy
 * (after `npm run policy:install` once, which links this folder's node_modules to the root's).
 * Importing this file starts the policy server: tests import `./policies` instead.
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, policies } from "./policies";

new PolicyPack(PACK_NAME, {
  description:
    "Guards a Talos Linux Kubernetes cluster on Proxmox VE: VM sizing, cluster layout, Helm hygiene, secrets.",
  policies,
});
