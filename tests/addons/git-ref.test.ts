import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { gitBranchProblem } from "../../components/addons/git-ref";

/** Branch names around every rule of git-check-ref-format(1), valid and refused. */
const NAMES = [
  "main",
  "release/v1.2",
  "feature/a-b_c",
  "v1.2.3",
  "users/me/work",
  "ümlaut",
  "a.b",
  "a@b",
  "ma in",
  "tab\tname",
  "feature..x",
  "-main",
  "main.lock",
  "x/y.lock/z",
  "a//b",
  "/main",
  "main/",
  "main.",
  ".hidden",
  "a/.b",
  "@",
  "HEAD",
  "head",
  "feat@{x",
  "what?",
  "star*",
  "br[acket",
  "back\\slash",
  "co:lon",
  "ti~lde",
  "ca^ret",
  "del\u007f",
];

describe("Flux Git branch names follow git check-ref-format --branch", () => {
  const git = spawnSync("git", ["--version"], { encoding: "utf8" });
  it("agrees with the real git on every name (valid and refused)", function () {
    if (git.status !== 0) {
      this.skip(); // git is not installed here: nothing to compare with
    }
    const disagreements: string[] = [];
    for (const name of NAMES) {
      const real = spawnSync("git", ["check-ref-format", "--branch", name], { encoding: "utf8" });
      const gitAccepts = real.status === 0;
      const weAccept = gitBranchProblem(name) === undefined;
      if (gitAccepts !== weAccept)
        disagreements.push(
          `${JSON.stringify(name)}: git ${gitAccepts ? "accepts" : "refuses"}, we ${weAccept ? "accept" : "refuse"}`,
        );
    }
    assert.deepEqual(disagreements, []);
    assert.ok(NAMES.filter((n) => gitBranchProblem(n) !== undefined).length >= 20, "most cases are refusals");
  });
});
