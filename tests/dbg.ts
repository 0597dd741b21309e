import * as fs from "node:fs";
import { applyPatches, loadPatch } from "../components/talos/patch";
console.log(JSON.stringify(loadPatch("---\n", { talosVersion: "1.13" })));
try { console.log(applyPatches(fs.readFileSync("/tmp/cfgw/1.13-worker.yaml","utf8"), ["---\n"], { node: "x", talosVersion: "1.13" }).slice(0,50)); } catch (e) { console.log((e as Error).message); }
