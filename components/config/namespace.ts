/** The project's config namespace (`name` in Pulumi.yaml). Its own module: the policy pack reads it without the schema. */
export const CONFIG_NAMESPACE = "proxmox-talos";
