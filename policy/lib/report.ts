/** Formatting shared by the policies. */
import { type ConfigIssue, formatIssue } from "../../components/config/errors";
import { CONFIG_NAMESPACE } from "../../components/config/namespace";

/** A config issue from `components/config/rules.ts` as a violation message naming the config key. */
export function issueMessage(issue: ConfigIssue, source: string): string {
  return `${formatIssue(CONFIG_NAMESPACE, issue)} (from the ${source})`;
}
