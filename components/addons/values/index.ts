export * from "./cilium";
export * from "./flux";
export * from "./merge";
export * from "./metallb";
export * from "./openebs";
