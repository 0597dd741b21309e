/**
 * Faults a Talos disk selector (a CEL expression over `disk`, Talos' DiskLocator environment in
 * pkg/machinery/cel/celenv) certainly has, found before any node sees it. Not a CEL implementation:
 * it refuses only what Talos' compiler refuses for sure — a token CEL does not have (`=`, `&`, `|`,
 * an unterminated string), unbalanced brackets, a field `disk` does not have, a name the
 * environment does not define, a bare non-boolean value, and the uint/int mix-ups of sizes
 * (`disk.size > 10`, `10 * GiB`: CEL has no overload for uint with int or double). Everything else
 * is left to Talos; the tests compare each verdict with talos-oracle.
 */

/** block.DiskSpec's fields (api/resource/definitions/block), by type; `firmware_version` from 1.14. */
const DISK_FIELDS: Readonly<Record<string, "uint" | "bool" | "string" | "list">> = {
  size: "uint",
  io_size: "uint",
  sector_size: "uint",
  readonly: "bool",
  model: "string",
  serial: "string",
  modalias: "string",
  wwid: "string",
  bus_path: "string",
  sub_system: "string",
  transport: "string",
  rotational: "bool",
  cdrom: "bool",
  dev_path: "string",
  pretty_size: "string",
  secondary_disks: "list",
  uuid: "string",
  symlinks: "list",
};
const FIELDS_SINCE: Readonly<Record<string, string>> = { firmware_version: "1.14" };

/** celenv's unit constants (uint). */
const UNITS = new Set(["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "kB", "MB", "GB", "TB", "PB", "EB"]);
/** Names a selector may use unqualified: the environment's variables, CEL's literals and type names. */
const FREE_NAMES = new Set([
  "in", // CEL's membership operator
  "disk",
  "system_disk",
  "true",
  "false",
  "null",
  "int",
  "uint",
  "double",
  "string",
  "bytes",
  "bool",
  "list",
  "map",
  "type",
  "null_type",
  ...UNITS,
]);
/** CEL macros that bind a variable: `list.exists(x, …)`. */
const BINDING_MACROS = new Set(["all", "exists", "exists_one", "map", "filter"]);

type Kind = "str" | "num" | "ident" | "op";
interface Token {
  readonly kind: Kind;
  readonly text: string;
}

const OPERATORS = [
  "==",
  "!=",
  "<=",
  ">=",
  "&&",
  "||",
  "<",
  ">",
  "!",
  "+",
  "-",
  "*",
  "/",
  "%",
  "?",
  ":",
  ".",
  ",",
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
];

/** CEL tokens, or the fault that stops tokenizing. */
function tokenize(text: string): Token[] | string {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const str = /^([rRbB]{0,2})("""|'''|"|')/.exec(text.slice(i));
    if (str && (str[1] === "" || /[A-Za-z]/.test(c))) {
      const raw = /[rR]/.test(str[1]!);
      const quote = str[2]!;
      let j = i + str[0].length;
      let closed = false;
      while (j < text.length) {
        if (!raw && text[j] === "\\") j += 2;
        else if (text.startsWith(quote, j)) {
          closed = true;
          j += quote.length;
          break;
        } else if (quote.length === 1 && text[j] === "\n") break;
        else j++;
      }
      if (!closed)
        return `has an unterminated string from ${text.slice(i, i + 12)}… (a closing ${quote} is missing)`;
      out.push({ kind: "str", text: text.slice(i, j) });
      i = j;
      continue;
    }
    const num = /^(0x[0-9a-fA-F]+|\d+(\.\d+)?([eE][+-]?\d+)?)[uU]?/.exec(text.slice(i));
    if (num) {
      out.push({ kind: "num", text: num[0] });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (id) {
      out.push({ kind: "ident", text: id[0] });
      i += id[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op) {
      out.push({ kind: "op", text: op });
      i += op.length;
      continue;
    }
    if (c === "=") return "uses '=': CEL compares with '==' (e.g. disk.serial == \"data\")";
    if (c === "&" || c === "|") return `uses '${c}': CEL's ${c === "&" ? "and is '&&'" : "or is '||'"}`;
    return `has ${JSON.stringify(c)}, which is not part of CEL`;
  }
  return out;
}

function bracketFault(tokens: readonly Token[]): string | undefined {
  const pairs: Readonly<Record<string, string>> = { ")": "(", "]": "[", "}": "{" };
  const open: string[] = [];
  for (const t of tokens) {
    if (t.kind !== "op") continue;
    if (t.text === "(" || t.text === "[" || t.text === "{") open.push(t.text);
    else if (t.text in pairs) {
      if (open.pop() !== pairs[t.text]) return `has a '${t.text}' without its '${pairs[t.text]}'`;
    }
  }
  return open.length > 0 ? `has a '${open[open.length - 1]}' that is never closed` : undefined;
}

const isComparison = (t: Token | undefined) =>
  t?.kind === "op" && ["==", "!=", "<", "<=", ">", ">="].includes(t.text);
const isSignedNumber = (t: Token | undefined) => t?.kind === "num" && !/[uU]$/.test(t.text);

/** Why Talos would refuse `selector` as a disk selector on `talosMinor`, or undefined when it may be fine. */
export function diskSelectorFault(selector: string, talosMinor?: string): string | undefined {
  const tokens = tokenize(selector);
  if (typeof tokens === "string") return tokens;
  const brackets = bracketFault(tokens);
  if (brackets) return brackets;

  const bound = new Set<string>();
  tokens.forEach((t, k) => {
    if (t.kind === "ident" && BINDING_MACROS.has(t.text) && tokens[k + 1]?.text === "(") {
      const v = tokens[k + 2];
      if (v?.kind === "ident") bound.add(v.text);
    }
  });
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.kind !== "ident") continue;
    const afterDot = tokens[k - 1]?.text === ".";
    const isCall = tokens[k + 1]?.text === "(";
    if (!afterDot && !isCall && !FREE_NAMES.has(t.text) && !bound.has(t.text)) {
      const field = t.text in DISK_FIELDS ? ` (did you mean disk.${t.text}?)` : "";
      return `uses ${t.text}, which Talos' disk selectors do not define${field}`;
    }
    if (afterDot && !isCall && tokens[k - 2]?.text === "disk" && tokens[k - 3]?.text !== ".") {
      const since = FIELDS_SINCE[t.text];
      if (since !== undefined && talosMinor !== undefined && minorBefore(talosMinor, since))
        return `uses disk.${t.text}, which Talos ${talosMinor} does not have (it came in ${since})`;
      if (!(t.text in DISK_FIELDS) && since === undefined)
        return `uses disk.${t.text}, which is not a field of a Talos disk (fields: ${Object.keys(DISK_FIELDS).join(", ")})`;
    }
    // uint field against an int or double literal, or an int literal times a uint unit.
    if (
      afterDot &&
      DISK_FIELDS[t.text] === "uint" &&
      tokens[k - 2]?.text === "disk" &&
      isComparison(tokens[k + 1]) &&
      isSignedNumber(tokens[k + 2]) &&
      tokens[k + 3]?.text !== "*"
    )
      return `compares disk.${t.text} (unsigned) with ${tokens[k + 2]!.text}: CEL has no such comparison — write ${tokens[k + 2]!.text.replace(/\.\d+$/, "")}u or a size like 10u * GiB`;
    if (
      afterDot &&
      DISK_FIELDS[t.text] === "uint" &&
      tokens[k - 2]?.text === "disk" &&
      isComparison(tokens[k - 3]) &&
      isSignedNumber(tokens[k - 4]) &&
      tokens[k - 5]?.text !== "*"
    )
      return `compares ${tokens[k - 4]!.text} with disk.${t.text} (unsigned): CEL has no such comparison — write ${tokens[k - 4]!.text.replace(/\.\d+$/, "")}u or a size like 10u * GiB`;
    if (UNITS.has(t.text) && !afterDot) {
      const left = tokens[k - 1]?.text === "*" ? tokens[k - 2] : undefined;
      const right = tokens[k + 1]?.text === "*" ? tokens[k + 2] : undefined;
      const bad = isSignedNumber(left) ? left : isSignedNumber(right) ? right : undefined;
      if (bad)
        return `multiplies ${bad.text} (a signed number) by ${t.text} (unsigned): CEL has no such product — write ${bad.text.replace(/\.\d+$/, "")}u * ${t.text}`;
    }
  }
  // A lone value that is not a condition.
  if (tokens.length === 1 && tokens[0]!.kind !== "ident") return "is a plain value, not a condition";
  if (
    tokens.length === 3 &&
    tokens[0]!.text === "disk" &&
    tokens[1]!.text === "." &&
    DISK_FIELDS[tokens[2]!.text] !== undefined &&
    DISK_FIELDS[tokens[2]!.text] !== "bool"
  )
    return `is disk.${tokens[2]!.text}, a ${DISK_FIELDS[tokens[2]!.text]}, not a condition — compare it, e.g. disk.serial == "S3EWNX0M"`;
  return undefined;
}

function minorBefore(minor: string, since: string): boolean {
  const [a, b] = minor.split(".").map(Number);
  const [c, d] = since.split(".").map(Number);
  return a! < c! || (a === c && b! < d!);
}
