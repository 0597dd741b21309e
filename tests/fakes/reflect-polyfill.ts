/**
 * `@peculiar/x509` pulls in tsyringe, which insists on a Reflect metadata polyfill at load time.
 * None is installed, so tests install this minimal one (only the three calls tsyringe makes) before
 * importing x509. It does nothing when a real polyfill is already present.
 */
type Key = string | symbol;
type MetaMap = Map<Key, unknown>;

interface ReflectMetadata {
  getMetadata?: (key: Key, target: object) => unknown;
  getOwnMetadata?: (key: Key, target: object) => unknown;
  defineMetadata?: (key: Key, value: unknown, target: object) => void;
}

const r = Reflect as unknown as ReflectMetadata;
if (typeof r.getMetadata !== "function") {
  const store = new WeakMap<object, MetaMap>();
  const own = (key: Key, target: object): unknown => store.get(target)?.get(key);
  r.getOwnMetadata = own;
  r.defineMetadata = (key, value, target) => {
    let m = store.get(target);
    if (!m) {
      m = new Map();
      store.set(target, m);
    }
    m.set(key, value);
  };
  r.getMetadata = (key, target) => {
    for (let t: object | null = target; t; t = Object.getPrototypeOf(t)) {
      const v = own(key, t);
      if (v !== undefined) return v;
    }
    return undefined;
  };
}

export {};
