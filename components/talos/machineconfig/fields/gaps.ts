/**
 * Known gaps between Talos' published config schemas (from which `talos-fields.json` is derived)
 * and what Talos' decoder accepts, each checked against Sidero's machinery (`talos-oracle-<minor>`,
 * tests/talos/fields-oracle.test.ts). Keyed by the first minor they apply to (inclusive) and, where
 * they stop, the last.
 */
import type { FieldSpec } from "./table";

export interface FieldGap {
  /** First and last minor (`1.12` …) the gap applies to; `to` absent = every later minor. */
  readonly from: string;
  readonly to?: string;
  /** Named type and field the schema omits (or types too narrowly). */
  readonly type: string;
  readonly field: string;
  readonly spec: FieldSpec;
  readonly why: string;
}

/** Named types no schema describes (its fields typed `*`, anything decoding), as Talos decodes them. */
export interface TypeGap {
  readonly from: string;
  readonly to?: string;
  readonly type: string;
  readonly fields: Readonly<Record<string, FieldSpec>>;
  readonly why: string;
}

const PEM_WHY =
  "siderolabs/crypto's x509 PEM wrappers: their UnmarshalYAML reads exactly these keys as strings and base64-decodes them";

export const TYPE_GAPS: readonly TypeGap[] = [
  { from: "1.9", type: "x509.PEMEncodedCertificateAndKey", fields: { crt: "p", key: "p" }, why: PEM_WHY },
  { from: "1.9", type: "x509.PEMEncodedKey", fields: { key: "p" }, why: PEM_WHY },
  { from: "1.9", type: "x509.PEMEncodedCertificate", fields: { crt: "p" }, why: PEM_WHY },
];

/** The v1alpha1 fields holding PEM wrappers, typed `*` by every schema (v1alpha1_types.go). */
const PEM_FIELDS: readonly FieldGap[] = (
  [
    ["v1alpha1.MachineConfig", "ca", "@x509.PEMEncodedCertificateAndKey"],
    ["v1alpha1.MachineConfig", "acceptedCAs", { l: "@x509.PEMEncodedCertificate" }],
    ["v1alpha1.ClusterConfig", "ca", "@x509.PEMEncodedCertificateAndKey"],
    ["v1alpha1.ClusterConfig", "acceptedCAs", { l: "@x509.PEMEncodedCertificate" }],
    ["v1alpha1.ClusterConfig", "aggregatorCA", "@x509.PEMEncodedCertificateAndKey"],
    ["v1alpha1.ClusterConfig", "serviceAccount", "@x509.PEMEncodedKey"],
    ["v1alpha1.EtcdConfig", "ca", "@x509.PEMEncodedCertificateAndKey"],
  ] as const
).map(([type, field, spec]) => ({ from: "1.9", type, field, spec, why: PEM_WHY }));

export const FIELD_GAPS: readonly FieldGap[] = [
  {
    from: "1.9",
    type: "v1alpha1.Config",
    field: "persist",
    spec: "b",
    why: "every schema omits the legacy top-level persist flag, which talosctl gen still emits and Talos decodes",
  },
  {
    from: "1.12",
    type: "v1alpha1.InstallConfig",
    field: "extraKernelArgs",
    spec: { l: "s" },
    why: "1.12+ schemas omit machine.install.extraKernelArgs; Talos still decodes it (Validate refuses it beside grubUseUKICmdline)",
  },
  {
    from: "1.9",
    type: "v1alpha1.ClusterConfig",
    field: "allowSchedulingOnMasters",
    spec: "b",
    why: "the deprecated (docgen:nodoc) predecessor of allowSchedulingOnControlPlanes: no schema lists it, Talos decodes it (1.14 refuses it beside KubeNodeConfig)",
  },
  ...PEM_FIELDS,
];

export interface KindGap {
  readonly from: string;
  /** Kind as Talos registers it. */
  readonly kind: string;
  /** Kind as the schema spells it (its fields are reused), or undefined: fields unknown (anything decodes). */
  readonly schemaKind?: string;
  readonly why: string;
}

export const KIND_GAPS: readonly KindGap[] = [
  {
    from: "1.9",
    kind: "KubeSpanEndpointsConfig",
    schemaKind: "KubeSpanEndpoints",
    why: "the schema's kind enum says KubeSpanEndpoints; Talos registers KubeSpanEndpointsConfig (and refuses the schema's spelling)",
  },
  {
    from: "1.14",
    kind: "UnattendedInstallConfig",
    schemaKind: "UnattendedInstall",
    why: "the 1.14 schema's kind enum says UnattendedInstall; Talos 1.14.1 registers UnattendedInstallConfig (talos-oracle-1.14 decodes and validates it, and refuses the schema's spelling)",
  },
  {
    from: "1.13",
    kind: "ImageVerificationConfig",
    why: "registered by Talos 1.13+ but absent from the published schema",
  },
];

/**
 * Kinds a schema names but Talos does not register: `KubeSpanEndpoints` and `UnattendedInstall`
 * (the 1.14 schema, from v1.14.0-rc.1), both registered under a `…Config` name (see KIND_GAPS).
 */
export const UNREGISTERED_SCHEMA_KINDS: ReadonlySet<string> = new Set([
  "KubeSpanEndpoints",
  "UnattendedInstall",
]);
