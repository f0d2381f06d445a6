/**
 * What the code of one principal (a route Lambda, the worker) can send to DynamoDB and which management
 * APIs it posts to, read from the source with the TypeScript compiler: from the principal's entry
 * functions, every function, method and constructor of this repository they call or reference is
 * followed (the checker resolves `deps.sessions.get` to `SessionStore.get`), and in each one every
 * `new XxxCommand(...)` of the DynamoDB SDK is recorded with the table it names (`…tables.sessions`).
 *
 * It over-approximates on purpose (a branch that never runs still counts), so a grant it asks for is
 * one some code path can use. Calls through an interface (no body to follow) are not followed: the
 * test binds the few that matter (StaleConnectionSink.delete) itself and fails on a new one.
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { TABLES, type TableKey } from '../../src/store/tables.js';

export const REPO = new URL('../../', import.meta.url).pathname;

/**
 * Where DynamoDB commands are declared: the SDK's packages, and the store's document client, which the
 * analysis treats as the SDK (it does not follow into it: its commands are recognised where they are
 * built, with their table, and each stands for the low-level command it sends).
 */
const COMMAND_FILES = /node_modules\/@aws-sdk\/(lib|client)-dynamodb\/|\/src\/store\/document\.ts$/;

/** The IAM action each DynamoDB SDK command needs (lib-dynamodb and client-dynamodb names). */
const ACTION_OF: Readonly<Record<string, string>> = {
  GetCommand: 'GetItem',
  GetItemCommand: 'GetItem',
  PutCommand: 'PutItem',
  PutItemCommand: 'PutItem',
  UpdateCommand: 'UpdateItem',
  UpdateItemCommand: 'UpdateItem',
  DeleteCommand: 'DeleteItem',
  DeleteItemCommand: 'DeleteItem',
  QueryCommand: 'Query',
  ScanCommand: 'Scan',
  BatchGetCommand: 'BatchGetItem',
  BatchGetItemCommand: 'BatchGetItem',
  BatchWriteCommand: 'BatchWriteItem',
  BatchWriteItemCommand: 'BatchWriteItem',
  DescribeTableCommand: 'DescribeTable',
  CreateTableCommand: 'CreateTable',
  UpdateTimeToLiveCommand: 'UpdateTimeToLive',
  ListTablesCommand: 'ListTables',
};

/**
 * Transactions have no IAM action of their own: each item is authorized by its own action
 * (docs: "Using IAM with DynamoDB transactions"), so the items' kinds are read from the argument.
 */
const TRANSACT_ITEM_ACTIONS: Readonly<Record<string, string>> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'ConditionCheckItem',
  Get: 'GetItem',
};
const TRANSACT_COMMANDS = new Set([
  'TransactWriteCommand',
  'TransactWriteItemsCommand',
  'TransactGetCommand',
  'TransactGetItemsCommand',
]);

const TABLE_KEYS = Object.keys(TABLES) as TableKey[];
const INDEX_TABLE = new Map(
  TABLE_KEYS.flatMap((table) => TABLES[table].indexes.map((index) => [index.name, table] as const)),
);

/** `table` or `table/index/name` → the actions the code needs there. */
export type Access = Map<string, Set<string>>;

export interface CommandSite {
  readonly command: string;
  readonly resources: readonly string[];
  readonly actions: readonly string[];
  /** `file:line` and the function it is in. */
  readonly where: string;
  /** How the entry reaches it: the chain of functions, entry first. */
  readonly via: readonly string[];
}

export interface PrincipalAccess {
  readonly access: Access;
  readonly sites: readonly CommandSite[];
  /** Names of every function and method reached, as `Class.method` or `function` (and `file` for files). */
  readonly reached: ReadonlySet<string>;
  /** Property names `publicGateway` / `controlGateway` used by reached code. */
  readonly gateways: ReadonlySet<string>;
  /** Interface methods called by reached code (no body to follow), by `Interface.method`. */
  readonly unresolved: ReadonlyMap<string, ts.Node>;
}

export class CodeAccess {
  readonly #program: ts.Program;
  readonly #checker: ts.TypeChecker;

  constructor() {
    const configFile = ts.readConfigFile(join(REPO, 'tsconfig.json'), ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, REPO);
    const roots = ['lambdas', 'worker', 'src'].flatMap((dir) =>
      readdirSync(join(REPO, dir), { recursive: true, encoding: 'utf8' })
        .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
        .map((name) => join(REPO, dir, name)),
    );
    this.#program = ts.createProgram({ rootNames: roots, options: { ...parsed.options, noEmit: true } });
    this.#checker = this.#program.getTypeChecker();
  }

  /** A top-level function (`file#name`) or a class method (`file#Class.method`) of this repository. */
  declaration(ref: string): ts.Node {
    const [file, name] = ref.split('#') as [string, string];
    const source = this.#source(file);
    const [owner, member] = name.split('.') as [string, string | undefined];
    for (const statement of source.statements) {
      if (member === undefined && ts.isFunctionDeclaration(statement) && statement.name?.text === owner) {
        return statement;
      }
      if (member !== undefined && ts.isClassDeclaration(statement) && statement.name?.text === owner) {
        const found = statement.members.find(
          (m) => m.name !== undefined && ts.isIdentifier(m.name) && m.name.text === member,
        );
        if (found) return found;
      }
    }
    throw new Error(`code-access: no ${name} in ${file}`);
  }

  /** Every statement of a file (the worker: everything it has is its own). */
  file(path: string): ts.Node {
    return this.#source(path);
  }

  /**
   * Whether the function a factory returns (a route handler) may answer with several events: its
   * promised result is, or includes, an array (lambdas/middleware/ws-response.ts then posts all but the
   * last through the public management API).
   */
  answersWithSeveralEvents(ref: string): boolean {
    const factory = this.declaration(ref) as ts.FunctionDeclaration;
    const signature = this.#checker.getSignatureFromDeclaration(factory);
    if (signature === undefined) throw new Error(`code-access: ${ref} has no signature`);
    const handler = this.#checker.getReturnTypeOfSignature(signature);
    const calls = handler.getCallSignatures();
    if (calls.length === 0) throw new Error(`code-access: ${ref} does not return a function`);
    return calls.some((call) => {
      const promised = this.#checker.getAwaitedType(this.#checker.getReturnTypeOfSignature(call));
      const members = promised === undefined ? [] : promised.isUnion() ? promised.types : [promised];
      return members.some((type) => this.#checker.isArrayType(type) || this.#checker.isTupleType(type));
    });
  }

  /** What the code reachable from `entries` sends to DynamoDB. */
  analyse(entries: readonly ts.Node[]): PrincipalAccess {
    const seen = new Set<ts.Node>();
    const reached = new Set<string>();
    const gateways = new Set<string>();
    const unresolved = new Map<string, ts.Node>();
    const sites: CommandSite[] = [];
    const indexLiterals = new Set<string>();
    const pendingIndexQueries: { table: TableKey; site: Omit<CommandSite, 'resources'> }[] = [];
    const queue = [...entries];
    const parent = new Map<ts.Node, ts.Node>();
    const via = (node: ts.Node): string[] => {
      const chain: string[] = [];
      for (let n: ts.Node | undefined = node; n !== undefined; n = parent.get(n)) chain.unshift(nameOf(n));
      return chain;
    };
    let current: ts.Node | undefined;

    const follow = (declaration: ts.Declaration | undefined): void => {
      if (declaration === undefined || !this.#isOurs(declaration)) return;
      if (hasBody(declaration) && !seen.has(declaration)) {
        if (current !== undefined && !parent.has(declaration)) parent.set(declaration, current);
        queue.push(declaration);
      }
    };

    const visitCommand = (node: ts.NewExpression, owner: ts.Node): void => {
      const symbol = this.#symbol(node.expression);
      const declaration = symbol?.declarations?.[0];
      if (declaration === undefined) return;
      const file = declaration.getSourceFile().fileName;
      if (!COMMAND_FILES.test(file)) return;
      if (!(symbol?.name ?? '').endsWith('Command')) return;
      const command = symbol?.name ?? '';
      const where = `${relative(REPO, node.getSourceFile().fileName)}:${
        node.getSourceFile().getLineAndCharacterOfPosition(node.getStart()).line + 1
      } (${nameOf(owner)})`;
      let actions: string[];
      if (TRANSACT_COMMANDS.has(command)) {
        const kinds = new Set<string>();
        node.arguments?.[0]?.forEachChild(function find(child): void {
          if (ts.isPropertyAssignment(child) && ts.isIdentifier(child.name)) {
            const action = TRANSACT_ITEM_ACTIONS[child.name.text];
            if (action !== undefined) kinds.add(action);
          }
          child.forEachChild(find);
        });
        actions = [...kinds];
        if (actions.length === 0) throw new Error(`code-access: ${command} at ${where}: no item kinds found`);
      } else {
        const action = ACTION_OF[command];
        if (action === undefined) {
          throw new Error(`code-access: ${command} at ${where}: add its IAM action to ACTION_OF`);
        }
        actions = [action];
      }
      const argument = node.arguments?.[0];
      const tables = argument === undefined ? new Set<TableKey>() : tablesNamedIn(argument);
      // A command whose argument names no table (a batch built elsewhere) uses the tables its class names.
      if (tables.size === 0) for (const t of tablesNamedIn(enclosingClassOrFile(node))) tables.add(t);
      if (tables.size === 0) throw new Error(`code-access: ${command} at ${where}: which table?`);
      const indexName = argument === undefined ? undefined : propertyOf(argument, 'IndexName');
      const path = via(owner);
      for (const table of tables) {
        if (indexName === undefined) {
          sites.push({ command, actions, where, via: path, resources: [table] });
        } else if (ts.isStringLiteralLike(indexName)) {
          sites.push({ command, actions, where, via: path, resources: [`${table}/index/${indexName.text}`] });
        } else {
          // The index is a parameter: decided below by the index names the reached code spells.
          pendingIndexQueries.push({ table, site: { command, actions, where, via: path } });
        }
      }
    };

    while (queue.length > 0) {
      const node = queue.pop() as ts.Node;
      if (seen.has(node)) continue;
      seen.add(node);
      reached.add(nameOf(node));
      current = node;
      const walk = (child: ts.Node): void => {
        if (ts.isNewExpression(child)) visitCommand(child, node);
        if (ts.isCallExpression(child) || ts.isNewExpression(child)) {
          const declaration = this.#checker.getResolvedSignature(child)?.declaration;
          if (declaration !== undefined && !ts.isJSDocSignature(declaration)) {
            if (this.#isOurs(declaration) && !hasBody(declaration) && isMember(declaration)) {
              unresolved.set(memberName(declaration), declaration);
            }
            follow(declaration);
          }
        }
        if (ts.isPropertyAccessExpression(child) || ts.isIdentifier(child)) {
          // A method or function passed by reference (a callback) counts as reached too.
          for (const declaration of this.#symbol(child)?.declarations ?? []) {
            if (
              ts.isMethodDeclaration(declaration) ||
              ts.isFunctionDeclaration(declaration) ||
              ts.isConstructorDeclaration(declaration)
            ) {
              follow(declaration);
            }
          }
        }
        if (ts.isPropertyAccessExpression(child) && /^(public|control)Gateway$/.test(child.name.text)) {
          gateways.add(child.name.text);
        }
        if (ts.isStringLiteralLike(child) && INDEX_TABLE.has(child.text)) indexLiterals.add(child.text);
        child.forEachChild(walk);
      };
      node.forEachChild(walk);
    }

    for (const { table, site } of pendingIndexQueries) {
      const names = [...indexLiterals].filter((name) => INDEX_TABLE.get(name) === table);
      if (names.length === 0) throw new Error(`code-access: ${site.where}: no index name of ${table} found`);
      sites.push({ ...site, resources: names.map((name) => `${table}/index/${name}`) });
    }
    const access: Access = new Map();
    for (const site of sites) {
      for (const resource of site.resources) {
        const actions = access.get(resource) ?? new Set<string>();
        for (const action of site.actions) actions.add(action);
        access.set(resource, actions);
      }
    }
    return { access, sites, reached, gateways, unresolved };
  }

  /**
   * The methods of the store's classes (src/store, src/commands) an interface member could be at run
   * time: classes whose instances are assignable to the member's interface and have the member.
   */
  implementations(member: ts.Node): string[] {
    const owner = member.parent;
    const name = (member as ts.MethodSignature).name.getText();
    const ownerType = this.#checker.getTypeAtLocation(owner);
    const found: string[] = [];
    for (const source of this.#program.getSourceFiles()) {
      if (source.isDeclarationFile || !/\/src\/(store|commands)\//.test(source.fileName)) continue;
      for (const statement of source.statements) {
        if (!ts.isClassDeclaration(statement) || statement.name === undefined) continue;
        const symbol = this.#checker.getSymbolAtLocation(statement.name);
        if (symbol === undefined) continue;
        const instance = this.#checker.getDeclaredTypeOfSymbol(symbol);
        if (instance.getProperty(name) === undefined) continue;
        if (this.#checker.isTypeAssignableTo(instance, ownerType))
          found.push(`${statement.name.text}.${name}`);
      }
    }
    return found;
  }

  /** Every DynamoDB command sent anywhere in these files, reached or not, as `file:line (function)`. */
  commandsIn(paths: readonly string[]): string[] {
    const wheres: string[] = [];
    for (const path of paths) {
      // The document client builds the SDK's commands for the ones it is given: those are the commands.
      if (COMMAND_FILES.test(`/${path}`)) continue;
      const source = this.#source(path);
      const walk = (node: ts.Node): void => {
        if (ts.isNewExpression(node)) {
          const symbol = this.#symbol(node.expression);
          const file = symbol?.declarations?.[0]?.getSourceFile().fileName ?? '';
          if (COMMAND_FILES.test(file) && symbol?.name.endsWith('Command')) {
            let owner: ts.Node = node.parent;
            while (!hasBody(owner) && !ts.isSourceFile(owner)) owner = owner.parent;
            // An arrow inside a method is still that method's command.
            while (
              (ts.isArrowFunction(owner) || ts.isFunctionExpression(owner)) &&
              !ts.isSourceFile(owner.parent)
            ) {
              owner = owner.parent;
              while (!hasBody(owner) && !ts.isSourceFile(owner)) owner = owner.parent;
            }
            const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
            wheres.push(`${path}:${line} (${nameOf(owner)})`);
          }
        }
        node.forEachChild(walk);
      };
      walk(source);
    }
    return wheres;
  }

  #source(path: string): ts.SourceFile {
    const source = this.#program.getSourceFile(join(REPO, path));
    if (source === undefined) throw new Error(`code-access: ${path} is not part of the program`);
    return source;
  }

  #symbol(node: ts.Node): ts.Symbol | undefined {
    const symbol = this.#checker.getSymbolAtLocation(node);
    if (symbol === undefined) return undefined;
    return symbol.flags & ts.SymbolFlags.Alias ? this.#checker.getAliasedSymbol(symbol) : symbol;
  }

  #isOurs(node: ts.Node): boolean {
    const file = node.getSourceFile();
    return (
      !file.isDeclarationFile &&
      !file.fileName.includes('/node_modules/') &&
      !COMMAND_FILES.test(file.fileName)
    );
  }
}

function hasBody(node: ts.Node): boolean {
  return (
    (ts.isFunctionDeclaration(node) ||
      ts.isMethodDeclaration(node) ||
      ts.isConstructorDeclaration(node) ||
      ts.isGetAccessorDeclaration(node) ||
      ts.isArrowFunction(node) ||
      ts.isFunctionExpression(node)) &&
    node.body !== undefined
  );
}

function isMember(node: ts.Node): node is ts.MethodSignature | ts.PropertySignature {
  return ts.isMethodSignature(node) || ts.isPropertySignature(node);
}

function memberName(node: ts.MethodSignature | ts.PropertySignature): string {
  const owner = node.parent;
  const ownerName =
    ts.isInterfaceDeclaration(owner) || ts.isTypeAliasDeclaration(owner)
      ? owner.name.text
      : ts.isTypeLiteralNode(owner) && ts.isPropertySignature(owner.parent)
        ? owner.parent.name.getText()
        : '?';
  return `${ownerName}.${node.name.getText()}`;
}

function nameOf(node: ts.Node): string {
  if (ts.isSourceFile(node)) return relative(REPO, node.fileName);
  if ((ts.isMethodDeclaration(node) || ts.isGetAccessorDeclaration(node)) && node.parent !== undefined) {
    const owner = ts.isClassDeclaration(node.parent) ? (node.parent.name?.text ?? '?') : '?';
    return `${owner}.${node.name.getText()}`;
  }
  if (ts.isConstructorDeclaration(node)) {
    return `${ts.isClassDeclaration(node.parent) ? (node.parent.name?.text ?? '?') : '?'}.constructor`;
  }
  if (ts.isClassDeclaration(node)) return `${node.name?.text ?? '?'}.constructor`;
  if (ts.isFunctionDeclaration(node)) return node.name?.text ?? '?';
  return `${relative(REPO, node.getSourceFile().fileName)}:${
    node.getSourceFile().getLineAndCharacterOfPosition(node.getStart()).line + 1
  }`;
}

function tablesNamedIn(node: ts.Node): Set<TableKey> {
  const tables = new Set<TableKey>();
  const walk = (child: ts.Node): void => {
    if (
      ts.isPropertyAccessExpression(child) &&
      (TABLE_KEYS as string[]).includes(child.name.text) &&
      ts.isPropertyAccessExpression(child.expression) &&
      child.expression.name.text === 'tables'
    ) {
      tables.add(child.name.text as TableKey);
    }
    child.forEachChild(walk);
  };
  walk(node);
  return tables;
}

function enclosingClassOrFile(node: ts.Node): ts.Node {
  let current: ts.Node = node;
  while (!ts.isClassDeclaration(current) && !ts.isSourceFile(current)) current = current.parent;
  return current;
}

function propertyOf(node: ts.Node, name: string): ts.Expression | undefined {
  if (!ts.isObjectLiteralExpression(node)) return undefined;
  for (const property of node.properties) {
    if (ts.isPropertyAssignment(property) && property.name.getText() === name) return property.initializer;
    if (ts.isShorthandPropertyAssignment(property) && property.name.text === name) return property.name;
  }
  return undefined;
}
