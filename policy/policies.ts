/** Every policy of the pack, in one list (the pack itself is started by index.ts). */
import type { Policies } from "@pulumi/policy";
import { clusterPolicies } from "./cluster";
import { helmPolicies } from "./helm";
import { secretPolicies } from "./secrets";
import { vmPolicies } from "./vms";

export const PACK_NAME = "proxmox-talos";

export const policies: Policies = [...vmPolicies, ...clusterPolicies, ...helmPolicies, ...secretPolicies];
