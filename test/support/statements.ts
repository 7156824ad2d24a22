import type { KyselyPlugin, RootOperationNode } from "kysely";
import type { AppContext } from "#src/context.ts";

/** A statement as Kysely built it: its kind, its table, and its whole tree as JSON. */
export interface SeenStatement {
  /** "UpdateQueryNode sms_messages": the kind and the first table the tree names. */
  label: string;
  tree: string;
  node: RootOperationNode;
}

/**
 * `ctx` whose statements are recorded as they are built (BEGIN and COMMIT are not statements of
 * Kysely's), for tests that count round trips or look at what a statement reads.
 */
export function watchStatements<C extends Pick<AppContext, "db">>(ctx: C) {
  const seen: SeenStatement[] = [];
  const plugin: KyselyPlugin = {
    transformQuery(args) {
      const tree = JSON.stringify(args.node);
      // The first name in the tree is the table's (UPDATE's table, SELECT's FROM, INSERT's INTO).
      const table = /"kind":"IdentifierNode","name":"(\w+)"/.exec(tree)?.[1];
      seen.push({ label: `${args.node.kind} ${table}`, tree, node: args.node });
      return args.node;
    },
    async transformResult(args) {
      return args.result;
    },
  };
  return { ctx: { ...ctx, db: ctx.db.withPlugin(plugin) }, seen };
}
