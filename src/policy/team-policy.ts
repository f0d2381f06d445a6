/**
 * The operator's rules for each team of a shared deployment: which Genesys deployments (and in which
 * region) its guests may open, how many sessions and upload bytes it may use, and how long an idle
 * session lives. Read once at start from `TEAM_POLICY` (a JSON document; infra sets it from the file
 * named by the CDK context `teamPolicyFile`). Without a policy no deployment is allowed: a shared relay
 * must not be an open relay into any Genesys org (docs/security.md).
 */
import * as z from 'zod';
import { regionDomain } from '../genesys/client/endpoint.js';

export const TEAM_POLICY_ENV = 'TEAM_POLICY';

/** The team entry that applies to every team without one of its own. */
export const ANY_TEAM = '*';

export interface Quotas {
  /** Sessions not yet ended, one subject (one person or CI job) of the team. */
  readonly openSessionsPerSubject: number;
  /** Sessions not yet ended, the whole team. */
  readonly openSessionsPerTeam: number;
  /** Sessions started in one clock minute, one subject. */
  readonly startsPerMinutePerSubject: number;
  /** Sessions started in one clock minute, the whole team. */
  readonly startsPerMinutePerTeam: number;
  /** Upload bytes in one clock hour, one subject. */
  readonly uploadBytesPerHourPerSubject: number;
  /** Upload bytes in one clock hour, the whole team. */
  readonly uploadBytesPerHourPerTeam: number;
}

/**
 * Sane for a team of a few people and their CI jobs: a subject can run a bounded load test, a team a
 * larger one; nobody can hold hundreds of upstream sessions by accident. An operator raises them per team.
 */
export const DEFAULT_QUOTAS: Quotas = Object.freeze({
  openSessionsPerSubject: 20,
  openSessionsPerTeam: 200,
  startsPerMinutePerSubject: 60,
  startsPerMinutePerTeam: 600,
  uploadBytesPerHourPerSubject: 200 * 1024 * 1024,
  uploadBytesPerHourPerTeam: 2 * 1024 * 1024 * 1024,
});

/** Quotas that never bind: one person's own machine (local mode), and tests of other things. */
export const UNLIMITED_QUOTAS: Quotas = Object.freeze({
  openSessionsPerSubject: 1_000_000,
  openSessionsPerTeam: 1_000_000,
  startsPerMinutePerSubject: 1_000_000,
  startsPerMinutePerTeam: 1_000_000,
  uploadBytesPerHourPerSubject: 2 ** 50,
  uploadBytesPerHourPerTeam: 2 ** 50,
});

/** A session without a frontend and without traffic for this long is ended (30 minutes). */
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 30 * 60;

export interface AllowedDeployment {
  readonly id: string;
  /**
   * The Genesys region domain (`mypurecloud.ie`), resolved from the policy's region name or domain.
   * Absent: the relay's configured endpoint (GENESYS_REGION or GENESYS_WS_URL; the emulator locally).
   */
  readonly regionDomain?: string;
}

export interface TeamRules {
  readonly deployments: readonly AllowedDeployment[];
  readonly quotas: Quotas;
  readonly idleTimeoutMs: number;
}

/** Where a session of the team connects, as the policy allows it. */
export interface ResolvedDeployment {
  readonly deploymentId: string;
  readonly regionDomain?: string;
}

export class TeamPolicyError extends Error {
  override readonly name = 'TeamPolicyError';
  readonly code = 'TEAM_POLICY_INVALID';
  readonly key = TEAM_POLICY_ENV;
}

/** Why a `connect` is refused; the relay answers it as `deployment_not_allowed`. */
export class DeploymentRefusal extends Error {
  override readonly name = 'DeploymentRefusal';
}

const DEPLOYMENT_ID = /^[A-Za-z0-9-]{1,64}$/;
const TEAM_KEY = /^(\*|[a-z0-9][a-z0-9-]{0,62})$/;

const count = z.number().int().min(0).max(1_000_000);
const bytes = z
  .number()
  .int()
  .min(0)
  .max(2 ** 50);
const quotasSchema = z
  .object({
    openSessionsPerSubject: count,
    openSessionsPerTeam: count,
    startsPerMinutePerSubject: count,
    startsPerMinutePerTeam: count,
    uploadBytesPerHourPerSubject: bytes,
    uploadBytesPerHourPerTeam: bytes,
  })
  .partial()
  .strict();
const deploymentSchema = z
  .object({
    id: z.string().regex(DEPLOYMENT_ID, 'a Genesys deployment id (1-64 of A-Z a-z 0-9 -)'),
    region: z.string().min(1).max(253).optional(),
  })
  .strict();
/** An idle timeout: one second to a week. */
const idleSeconds = z
  .number()
  .int()
  .min(1)
  .max(7 * 86_400);
const teamSchema = z
  .object({
    deployments: z.array(deploymentSchema).max(100).default([]),
    quotas: quotasSchema.optional(),
    idleTimeoutSeconds: idleSeconds.optional(),
  })
  .strict();
const policySchema = z
  .object({
    defaults: z
      .object({
        quotas: quotasSchema.optional(),
        idleTimeoutSeconds: idleSeconds.optional(),
      })
      .strict()
      .optional(),
    teams: z.record(z.string().regex(TEAM_KEY, 'a team id or "*"'), teamSchema),
  })
  .strict();

export type TeamPolicyDocument = z.input<typeof policySchema>;

export class TeamPolicy {
  readonly #teams: ReadonlyMap<string, TeamRules>;
  readonly #fallback: TeamRules;
  readonly #document: TeamPolicyDocument;

  private constructor(
    teams: ReadonlyMap<string, TeamRules>,
    fallback: TeamRules,
    document: TeamPolicyDocument,
  ) {
    this.#teams = teams;
    this.#fallback = fallback;
    this.#document = document;
  }

  /** A policy that allows nothing: every `connect` is refused, naming TEAM_POLICY. */
  static none(): TeamPolicy {
    return TeamPolicy.from({ teams: {} });
  }

  /**
   * Every team may open `deploymentId` on the relay's configured endpoint (local mode: the emulator's
   * deployment), with the default quotas unless others are given.
   */
  static allowingEveryTeam(deploymentId: string, rules: Omit<TeamPolicyDocument, 'teams'> = {}): TeamPolicy {
    return TeamPolicy.from({ ...rules, teams: { [ANY_TEAM]: { deployments: [{ id: deploymentId }] } } });
  }

  /** Reads `TEAM_POLICY`; absent or empty: TeamPolicy.none(). */
  static fromEnv(env: Readonly<Record<string, string | undefined>>): TeamPolicy {
    const text = env[TEAM_POLICY_ENV]?.trim();
    if (text === undefined || text === '') return TeamPolicy.none();
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new TeamPolicyError(`${TEAM_POLICY_ENV} is not valid JSON.`);
    }
    return TeamPolicy.from(value);
  }

  /** @throws TeamPolicyError naming the first bad entry (never an unknown region silently). */
  static from(document: unknown): TeamPolicy {
    const parsed = policySchema.safeParse(document);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.join('.') || '(root)';
      throw new TeamPolicyError(`${TEAM_POLICY_ENV}: ${where}: ${issue?.message ?? 'invalid'}`);
    }
    const { defaults, teams } = parsed.data;
    const baseQuotas: Quotas = { ...DEFAULT_QUOTAS, ...defined(defaults?.quotas) };
    const baseIdle = defaults?.idleTimeoutSeconds ?? DEFAULT_IDLE_TIMEOUT_SECONDS;
    const rules = (team: string, entry: z.output<typeof teamSchema> | undefined): TeamRules =>
      Object.freeze({
        deployments: Object.freeze(
          (entry?.deployments ?? []).map((d, index) => {
            if (d.region === undefined) return Object.freeze({ id: d.id });
            const domain = regionDomain(d.region);
            if (domain === undefined) {
              throw new TeamPolicyError(
                `${TEAM_POLICY_ENV}: teams.${team}.deployments.${index}.region "${d.region}" is not a known Genesys region.`,
              );
            }
            return Object.freeze({ id: d.id, regionDomain: domain });
          }),
        ),
        quotas: Object.freeze({ ...baseQuotas, ...defined(entry?.quotas) }),
        idleTimeoutMs: (entry?.idleTimeoutSeconds ?? baseIdle) * 1000,
      });
    const map = new Map<string, TeamRules>();
    for (const [team, entry] of Object.entries(teams)) map.set(team, rules(team, entry));
    return new TeamPolicy(map, map.get(ANY_TEAM) ?? rules(ANY_TEAM, undefined), parsed.data);
  }

  /**
   * The document as checked: `TeamPolicy.from(policy.toJSON())` is the same policy, and
   * `JSON.stringify(policy)` is what TEAM_POLICY takes (for a worker started as a child process).
   */
  toJSON(): TeamPolicyDocument {
    return structuredClone(this.#document);
  }

  /** The team's own rules, else those of `"*"`, else no deployment with the default quotas. */
  forTeam(team: string): TeamRules {
    return this.#teams.get(team) ?? this.#fallback;
  }

  /**
   * Where a new session of `team` connects. The frame may name a deployment and a region; both must be
   * in the team's list (a region given for a deployment listed without one is refused: that deployment
   * lives on the relay's configured endpoint). Without a deployment id, the team's first one.
   *
   * @throws DeploymentRefusal with a message that says what is allowed and who changes it.
   */
  resolve(team: string, requested: { deploymentId?: string; region?: string }): ResolvedDeployment {
    const { deployments } = this.forTeam(team);
    if (deployments.length === 0) {
      throw new DeploymentRefusal(
        `Team "${team}" may not open any Genesys deployment: the operator lists none for it in the relay's team policy (docs/security.md).`,
      );
    }
    const wanted = requested.deploymentId ?? deployments[0]?.id;
    const matches = deployments.filter((d) => d.id === wanted);
    if (matches.length === 0) {
      throw new DeploymentRefusal(
        `Deployment "${wanted}" is not allowed for team "${team}"; ask the operator to add it to the team policy (docs/security.md).`,
      );
    }
    if (requested.region === undefined) {
      const first = matches[0] as AllowedDeployment;
      return first.regionDomain === undefined
        ? { deploymentId: first.id }
        : { deploymentId: first.id, regionDomain: first.regionDomain };
    }
    const domain = regionDomain(requested.region);
    if (domain === undefined) {
      throw new DeploymentRefusal(`Region "${requested.region}" is not a known Genesys region.`);
    }
    const match = matches.find((d) => d.regionDomain === domain);
    if (match === undefined) {
      const where = matches.map((d) => d.regionDomain ?? "the relay's configured endpoint").join(', ');
      throw new DeploymentRefusal(
        `Deployment "${wanted}" is allowed for team "${team}" only on ${where}, not in region "${requested.region}".`,
      );
    }
    return { deploymentId: match.id, regionDomain: domain };
  }

  /**
   * Whether a stored session may still open upstream (the worker checks again: a session stored before
   * the policy changed, or written by anything but the relay, never reaches a host the policy refuses).
   */
  allows(team: string, deploymentId: string, regionDomainOfSession: string | undefined): boolean {
    return this.forTeam(team).deployments.some(
      (d) => d.id === deploymentId && d.regionDomain === regionDomainOfSession,
    );
  }
}

/** The quotas an entry sets (zod leaves the others as undefined keys, which must not override). */
function defined(quotas: Partial<Record<keyof Quotas, number | undefined>> | undefined): Partial<Quotas> {
  return Object.fromEntries(Object.entries(quotas ?? {}).filter((pair) => pair[1] !== undefined));
}
