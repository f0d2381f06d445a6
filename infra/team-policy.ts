/**
 * The team policy (src/policy/team-policy.ts) a deployment runs with: the JSON file the CDK context
 * `teamPolicyFile` names (relative to the working directory, i.e. the project root for `npx cdk …`).
 * Checked here only for what would break the deployment itself: that it is JSON, and that it fits in a
 * Lambda's environment. Its meaning is checked by the code that reads TEAM_POLICY, at start.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Construct } from 'constructs';

/** The context key naming the file. */
export const TEAM_POLICY_CONTEXT = 'teamPolicyFile';

/**
 * The most TEAM_POLICY may take, minified: a Lambda's environment holds 4 KB in total (names and values
 * together), and the table names, endpoints and deployment id take the rest.
 */
export const MAX_TEAM_POLICY_BYTES = 3 * 1024;

/** The minified policy to set as TEAM_POLICY, or undefined when no file is named. */
export function teamPolicyFromContext(scope: Construct): string | undefined {
  const file: unknown = scope.node.tryGetContext(TEAM_POLICY_CONTEXT);
  if (file === undefined || file === '') return undefined;
  if (typeof file !== 'string') throw new Error(`${TEAM_POLICY_CONTEXT} must be a file name.`);
  return readTeamPolicy(resolve(process.cwd(), file), file);
}

export function readTeamPolicy(path: string, name = path): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${TEAM_POLICY_CONTEXT} ${name}: cannot read it (${(error as Error).message}).`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${TEAM_POLICY_CONTEXT} ${name} is not valid JSON: ${(error as Error).message}`);
  }
  const minified = JSON.stringify(value);
  const bytes = Buffer.byteLength(minified, 'utf8');
  if (bytes > MAX_TEAM_POLICY_BYTES) {
    throw new Error(
      `${TEAM_POLICY_CONTEXT} ${name} is ${bytes} bytes once minified; at most ${MAX_TEAM_POLICY_BYTES} ` +
        '(3 KB): TEAM_POLICY goes into every Lambda environment, which holds 4 KB in total.',
    );
  }
  return minified;
}
