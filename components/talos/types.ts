/**
 * Shared shapes of the Talos layer. Pure data: no Pulumi, no network.
 */

/** A PEM certificate with its PEM private key (both as PEM text, not base64). */
export interface CertAndKey {
  readonly crt: string;
  readonly key: string;
}

/**
 * The cluster's secrets bundle, as `talosctl gen secrets` writes it (`secrets.yaml`), decoded:
 * certificates and keys are PEM text here; the YAML form stores them base64-encoded.
 */
export interface SecretsBundle {
  readonly cluster: {
    /** 32 random bytes, URL-safe base64 with padding. */
    readonly id: string;
    /** 32 random bytes, standard base64. */
    readonly secret: string;
  };
  readonly secrets: {
    /** kubeadm-style token `[a-z0-9]{6}.[a-z0-9]{16}`. */
    readonly bootstrapToken: string;
    /** 32 random bytes, standard base64 (modern bundles). */
    readonly secretboxEncryptionSecret?: string;
    /** Only in bundles made for Talos <= 1.2 contracts. */
    readonly aescbcEncryptionSecret?: string;
  };
  readonly trustdInfo: {
    readonly token: string;
  };
  readonly certs: {
    readonly etcd: CertAndKey;
    readonly k8s: CertAndKey;
    readonly k8sAggregator: CertAndKey;
    readonly k8sServiceAccount: { readonly key: string };
    readonly os: CertAndKey;
  };
}

export type MachineRole = "controlplane" | "worker";
