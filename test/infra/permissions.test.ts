/**
 * infra/permissions.ts against the code: for each public route and for the worker, the DynamoDB actions
 * (per table and index) and management APIs the code can use must be exactly what the mapping grants.
 * A store method that starts sending a new command (a BatchGetItem, a Scan, a transaction) fails here,
 * naming the command, where it is sent and how the route reaches it; a grant nothing uses fails too.
 * The code is read with the TypeScript compiler (test/infra/code-access.ts), not run.
 */
import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PublicRouteKey } from '../../infra/constructs/public-api.js';
import { type Permissions, ROUTE_PERMISSIONS, WORKER_PERMISSIONS } from '../../infra/permissions.js';
import { type Access, CodeAccess, type PrincipalAccess, REPO } from './code-access.js';

type MessageRoute = Exclude<PublicRouteKey, '$connect' | '$disconnect' | '$default'>;

/** Each route's core (what lambdas/routes.ts composes for it). `$default` dispatches to all of them. */
const LIFECYCLE: Readonly<Record<'$connect' | '$disconnect', string>> = {
  $connect: 'src/relay/connection.ts#createConnectHandler',
  $disconnect: 'src/relay/connection.ts#createDisconnectHandler',
};
const MESSAGES: Readonly<Record<MessageRoute, string>> = {
  connect: 'src/relay/connect.ts#createConnectActionHandler',
  send: 'src/relay/send.ts#createSendHandler',
  typing: 'src/relay/typing.ts#createTypingHandler',
  context: 'src/relay/context.ts#createContextHandler',
  upload: 'src/relay/upload.ts#createUploadHandler',
  history: 'src/relay/history.ts#createHistoryHandler',
  end: 'src/relay/end.ts#createEndHandler',
  ping: 'src/relay/ping.ts#createPingHandler',
};
/** What every route Lambda runs besides its core: the deps it builds and the middlewares. */
const SHARED = [
  'src/relay/deps.ts#createRelayDeps',
  'lambdas/middleware/ws-logger.ts#wsLogger',
  'lambdas/middleware/ws-error-handler.ts#wsErrorHandler',
  'lambdas/middleware/ws-response.ts#wsResponse',
  'lambdas/middleware/ws-body-parser.ts#wsBodyParser',
];
/**
 * ManagementClient forgets a gone connection through StaleConnectionSink.delete, an interface: the
 * public gateway's sink (relay and worker) is the ConnectionStore, the control gateway's a no-op.
 */
const SINK = 'StaleConnectionSink.delete';
const SINK_IMPLEMENTATION = 'src/store/connections.ts#ConnectionStore.delete';

/** Files whose DynamoDB commands no principal runs in the cloud (local engines and tests only). */
const LOCAL_ONLY = ['src/store/provision.ts', 'src/store/dynalite.ts', 'src/store/dynalite-thread.ts'];
/** Store methods no principal calls, and why they stay (a principal that starts calling one is checked above). */
const UNUSED: Readonly<Record<string, string>> = {
  'TranscriptStore.put': 'the worker writes entries in batches (TranscriptWriter); the store tests use it',
  'TranscriptStore.putKey':
    'the worker writes key markers in batches (TranscriptWriter); the store tests use it',
};

interface Analysed {
  readonly access: PrincipalAccess;
  readonly manage: Set<string>;
}

let code: CodeAccess;
const analysed = new Map<string, Analysed>();

function analyseRoute(route: PublicRouteKey): Analysed {
  const cores =
    route === '$default'
      ? Object.values(MESSAGES)
      : route === '$connect' || route === '$disconnect'
        ? [LIFECYCLE[route]]
        : [MESSAGES[route]];
  // wsResponse posts all but the last of several events through the public gateway (lambdas/routes.ts).
  const posts =
    route !== '$connect' &&
    route !== '$disconnect' &&
    cores.some((core) => code.answersWithSeveralEvents(core));
  const entries = [...cores, ...SHARED, ...(posts ? [SINK_IMPLEMENTATION] : [])].map((ref) =>
    code.declaration(ref),
  );
  const access = code.analyse(entries);
  const manage = new Set<string>();
  if (posts) manage.add('public');
  if (access.gateways.has('controlGateway')) manage.add('control');
  return { access, manage };
}

function analyseWorker(): Analysed {
  const files = readdirSync(`${REPO}worker`)
    .filter((name) => name.endsWith('.ts'))
    .map((name) => code.file(`worker/${name}`));
  // Its one ManagementClient (worker/runtime.ts) posts to frontends with the ConnectionStore as sink.
  const access = code.analyse([...files, code.declaration(SINK_IMPLEMENTATION)]);
  return { access, manage: new Set(['public']) };
}

/** The mapping as `table` / `table/index/name` → actions, like the analysis. */
function granted(permissions: Permissions): Access {
  const access: Access = new Map();
  for (const [table, grant] of Object.entries(permissions.tables)) {
    if (grant === undefined) continue;
    if (grant.actions.length > 0) access.set(table, new Set(grant.actions));
    for (const index of grant.indexes ?? []) access.set(`${table}/index/${index}`, new Set(['Query']));
  }
  return access;
}

/** Every difference, in words a failing test can show. */
function differences(name: string, analysis: PrincipalAccess, grants: Access): string[] {
  const problems: string[] = [];
  const resources = new Set([...analysis.access.keys(), ...grants.keys()]);
  for (const resource of [...resources].sort()) {
    const needed = analysis.access.get(resource) ?? new Set<string>();
    const given = grants.get(resource) ?? new Set<string>();
    for (const action of needed) {
      if (given.has(action)) continue;
      const sites = analysis.sites.filter(
        (s) => s.resources.includes(resource) && s.actions.includes(action),
      );
      problems.push(
        `${name}: the code sends ${action} to ${resource}, which infra/permissions.ts does not grant:\n` +
          sites.map((s) => `    ${s.command} at ${s.where}, via ${s.via.join(' → ')}`).join('\n'),
      );
    }
    for (const action of given) {
      if (!needed.has(action)) {
        problems.push(
          `${name}: infra/permissions.ts grants ${action} on ${resource}, which no code path uses`,
        );
      }
    }
  }
  return problems;
}

beforeAll(() => {
  code = new CodeAccess();
  for (const route of Object.keys(ROUTE_PERMISSIONS) as PublicRouteKey[]) {
    analysed.set(route, analyseRoute(route));
  }
  analysed.set('worker', analyseWorker());
}, 120_000);

describe('infra/permissions.ts against the code', () => {
  it('grants each route exactly the DynamoDB actions, tables and indexes its code can use', () => {
    const problems = (Object.keys(ROUTE_PERMISSIONS) as PublicRouteKey[]).flatMap((route) =>
      differences(route, (analysed.get(route) as Analysed).access, granted(ROUTE_PERMISSIONS[route])),
    );
    expect(problems.join('\n')).toBe('');
    // The analysis sees the code at all: a start writes the session, a resume attaches to it.
    expect(analysed.get('connect')?.access.access.get('sessions')).toContain('PutItem');
    expect(analysed.get('ping')?.access.access.size).toBe(0);
  });

  it("grants the worker's task role exactly what worker/*.ts can use", () => {
    const worker = analysed.get('worker') as Analysed;
    expect(differences('worker', worker.access, granted(WORKER_PERMISSIONS)).join('\n')).toBe('');
    expect(worker.access.access.get('sessions/index/byOwnerPending')).toContain('Query');
  });

  it('lets each route post only to the management APIs its code posts to', () => {
    for (const route of Object.keys(ROUTE_PERMISSIONS) as PublicRouteKey[]) {
      const { manage } = analysed.get(route) as Analysed;
      expect([...ROUTE_PERMISSIONS[route].manage].sort(), route).toEqual([...manage].sort());
    }
    expect([...WORKER_PERMISSIONS.manage]).toEqual(['public']);
  });

  it('grants Scan only with a reason naming the code path that scans', () => {
    const all = [
      ...(Object.keys(ROUTE_PERMISSIONS) as PublicRouteKey[]).map(
        (route) => [route, ROUTE_PERMISSIONS[route]] as const,
      ),
      ['worker', WORKER_PERMISSIONS] as const,
    ];
    for (const [name, permissions] of all) {
      const { access } = analysed.get(name) as Analysed;
      for (const [table, grant] of Object.entries(permissions.tables)) {
        if (!grant?.actions.includes('Scan')) {
          expect(grant?.scan, `${name} ${table}`).toBeUndefined();
          continue;
        }
        const method = grant.scan?.split(' ')[0] ?? '';
        expect(method, `${name} ${table}: the reason starts with Class.method`).toMatch(/^\w+\.\w+$/);
        const scans = access.sites.filter((s) => s.command === 'ScanCommand' && s.resources.includes(table));
        expect(
          scans.some((s) => s.via.includes(method)),
          `${name}: ${method} is not how ${name} reaches a Scan of ${table}`,
        ).toBe(true);
      }
    }
  });

  it('accounts for every DynamoDB command in src/: each is reached by a principal, or is local-only', () => {
    const files = readdirSync(`${REPO}src`, { recursive: true, encoding: 'utf8' })
      .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
      .map((name) => `src/${name}`);
    const reached = new Set([...analysed.values()].flatMap((a) => a.access.sites.map((s) => s.where)));
    const all = code.commandsIn(files);
    const unaccounted = all.filter(
      (where) =>
        !reached.has(where) &&
        !LOCAL_ONLY.some((file) => where.startsWith(`${file}:`)) &&
        !Object.keys(UNUSED).some((method) => where.endsWith(`(${method})`)),
    );
    expect(
      unaccounted,
      'a DynamoDB command no principal reaches (dead code, or the analysis misses a path)',
    ).toEqual([]);
    // The exceptions are still true: each exists, and nothing reaches it.
    for (const method of Object.keys(UNUSED)) {
      expect(
        all.some((where) => where.endsWith(`(${method})`)),
        method,
      ).toBe(true);
      expect(
        [...reached].filter((where) => where.endsWith(`(${method})`)),
        method,
      ).toEqual([]);
    }
  });

  it('follows every interface call that could reach a store (only the management client’s sink)', () => {
    const bindings = new Map<string, string[]>();
    for (const { access } of analysed.values()) {
      for (const [name, member] of access.unresolved) {
        const implementations = code.implementations(member);
        if (implementations.length > 0) bindings.set(name, implementations);
      }
    }
    expect(Object.fromEntries(bindings)).toEqual({ [SINK]: ['ConnectionStore.delete'] });
  });
});
