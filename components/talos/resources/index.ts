export { Bootstrap, type BootstrapArgs } from "./bootstrap";
export { ClientConfigs, type ClientConfigsArgs } from "./client-configs";
export { ClusterMembership, type ClusterMembershipArgs } from "./cluster-membership";
export { ClusterReady, type ClusterReadyArgs } from "./cluster-ready";
export { credentialsFromTalosconfig } from "./credentials";
export { MachineConfigApply, type MachineConfigApplyArgs } from "./machine-config-apply";
export { MachineSecrets, type MachineSecretsArgs } from "./machine-secrets";
