/**
 * Compares a protobufjs Root of the project's (or a test fake's) Talos API declarations with an
 * upstream Talos FileDescriptorSet (../shared/reference/talos/proto): every service, method,
 * message, field and enum value declared must exist upstream with the same name, number, type and
 * cardinality.
 */
import * as fs from "node:fs";
import * as protobuf from "protobufjs";
import * as descriptor from "protobufjs/ext/descriptor";

interface DescriptorRoot {
  fromDescriptor(set: unknown): protobuf.Root;
}

export function loadUpstream(file: string): protobuf.Root {
  const set = descriptor.FileDescriptorSet.decode(fs.readFileSync(file));
  const root = (protobuf.Root as unknown as DescriptorRoot).fromDescriptor(set);
  root.resolveAll();
  return root;
}

function walk(
  ns: protobuf.NamespaceBase,
  out: protobuf.ReflectionObject[] = [],
): protobuf.ReflectionObject[] {
  for (const obj of ns.nestedArray) {
    out.push(obj);
    if (obj instanceof protobuf.Namespace || obj instanceof protobuf.Type) walk(obj, out);
  }
  return out;
}

export const full = (o: protobuf.ReflectionObject) => o.fullName.replace(/^\./, "");

function fieldType(f: protobuf.Field): string {
  return f.resolvedType ? full(f.resolvedType) : f.type;
}

/** Every difference between our declarations and upstream (empty = compatible). */
export function compareToUpstream(
  ours: protobuf.Root,
  upstream: protobuf.Root,
): { problems: string[]; checked: number } {
  const problems: string[] = [];
  let checked = 0;
  for (const obj of walk(ours)) {
    const name = full(obj);
    if (name.startsWith("google.protobuf")) continue; // well-known types ship with the loader
    if (!(obj instanceof protobuf.Type || obj instanceof protobuf.Enum || obj instanceof protobuf.Service))
      continue;
    const up = upstream.lookup(name);
    checked++;
    if (obj instanceof protobuf.Type) {
      if (!(up instanceof protobuf.Type)) {
        problems.push(`message ${name} missing upstream`);
        continue;
      }
      for (const f of obj.fieldsArray) {
        const uf = up.fields[f.name];
        if (!uf) {
          problems.push(`${name}.${f.name} missing upstream`);
          continue;
        }
        if (uf.id !== f.id) problems.push(`${name}.${f.name}: number ${f.id}, upstream ${uf.id}`);
        if (fieldType(uf) !== fieldType(f))
          problems.push(`${name}.${f.name}: type ${fieldType(f)}, upstream ${fieldType(uf)}`);
        if (uf.repeated !== f.repeated || uf.map !== f.map) {
          problems.push(
            `${name}.${f.name}: cardinality ${f.repeated ? "repeated" : "singular"} differs upstream`,
          );
        }
      }
    } else if (obj instanceof protobuf.Enum) {
      if (!(up instanceof protobuf.Enum)) {
        problems.push(`enum ${name} missing upstream`);
        continue;
      }
      for (const [k, v] of Object.entries(obj.values)) {
        if (up.values[k] !== v) problems.push(`${name}.${k} = ${v}, upstream ${up.values[k] ?? "absent"}`);
      }
    } else {
      if (!(up instanceof protobuf.Service)) {
        problems.push(`service ${name} missing upstream`);
        continue;
      }
      for (const m of obj.methodsArray) {
        const um = up.methods[m.name];
        if (!um) {
          problems.push(`${name}/${m.name} missing upstream`);
          continue;
        }
        const sig = (x: protobuf.Method) =>
          `${x.resolvedRequestType ? full(x.resolvedRequestType) : x.requestType}${x.requestStream ? " stream" : ""} -> ` +
          `${x.resolvedResponseType ? full(x.resolvedResponseType) : x.responseType}${x.responseStream ? " stream" : ""}`;
        if (sig(um) !== sig(m)) problems.push(`${name}/${m.name}: ${sig(m)}, upstream ${sig(um)}`);
      }
    }
  }
  return { problems, checked };
}
