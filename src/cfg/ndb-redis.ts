// ndb_redis in a .cfg: redis_cmd, redis_pipe_cmd, redis_execute, redis_free (the
// engine is src/modules/ndb_redis/, shared with KSR.ndb_redis) and its modparams.
//
// The command argument is compiled into words once, at start-up: its literal text
// is cut at spaces as hiredis cuts it, "%s" takes the next parameter, and a
// variable's value stays inside the word it is written in (see command.ts for why
// that differs from Kamailio). The number of "%s" must match the parameters given:
// a start-up error otherwise, where Kamailio's C would read past its arguments.
import type { RequestContext } from "../context.ts";
import { readdirFiles } from "./host.ts";
import { buildWords, CommandFormatError, paramCount, parseCommandText, type CommandPart } from "../modules/ndb_redis/command.ts";
import { redisAppend, redisExec, redisExecutePipe, type Caller } from "../modules/ndb_redis/engine.ts";
import { redisFreeReply } from "../modules/ndb_redis/replies.ts";
import { NDB_REDIS_PARAMS, resetNdbRedis, setNdbRedisParam } from "../modules/ndb_redis/params.ts";
import { NdbRedisConfigError } from "../modules/ndb_redis/servers.ts";
import { CfgSyntaxError, pvLength, type Pos } from "./lexer.ts";
import { compileFormat, compilePv } from "./pvs.ts";
import { where, type Exec } from "./runtime.ts";
import type { Arg } from "./syntax-tree.ts";
import { printValue } from "./values.ts";

type Getter = (ctx: RequestContext) => string;

/** The compiled arguments of a redis_cmd / redis_pipe_cmd call. */
interface CommandCall {
  server: Getter;
  parts: CommandPart<RequestContext>[];
  params: Getter[];
  reply: Getter;
}

const fmt = (a: Arg): Getter => compileFormat(a.k === "num" ? String(a.num) : a.v, a.pos).get;

/** The command text as parts: literal text by hiredis's rules, variables as values. */
function compileCommand(a: Arg, fname: string): CommandPart<RequestContext>[] {
  const text = a.k === "num" ? String(a.num) : a.v;
  const parts: CommandPart<RequestContext>[] = [];
  let lit = "";
  const flush = () => {
    try {
      parseCommandText(lit, parts);
    } catch (e) {
      if (e instanceof CommandFormatError) throw new CfgSyntaxError(a.pos, `${fname}: ${e.message}`);
      throw e;
    }
    lit = "";
  };
  for (let i = 0; i < text.length; ) {
    const n = text[i] === "$" ? pvLength(text, i) : 0;
    if (n > 0) {
      flush();
      const get = compilePv(text.slice(i, i + n), { ...a.pos, col: a.pos.col + i + 1 }).get;
      parts.push({ kind: "value", get: (ctx) => printValue(get(ctx)) });
      i += n;
    } else lit += text[i++];
  }
  flush();
  return parts;
}

function compileCommandCall(args: Arg[], pos: Pos, fname: string): [CommandCall] {
  const parts = compileCommand(args[1], fname);
  const params = args.slice(2, -1);
  const wanted = paramCount(parts);
  if (wanted !== params.length) {
    throw new CfgSyntaxError(args[1].pos, `${fname}: the command has ${wanted} %s for ${params.length} parameter(s) (each %s takes the next parameter)`);
  }
  if (!parts.some((p) => p.kind !== "cut")) throw new CfgSyntaxError(args[1].pos, `${fname}: the command is empty`);
  return [{ server: fmt(args[0]), parts, params: params.map(fmt), reply: fmt(args[args.length - 1]) }];
}

const caller = (ctx: RequestContext): Caller => ({ owner: ctx, logger: ctx.logger, signal: ctx.signal });

function words(call: CommandCall, ctx: RequestContext): string[] {
  return buildWords(
    call.parts,
    call.params.map((p) => p(ctx)),
    ctx,
  );
}

type Compiled = (ctx: RequestContext) => unknown;
const callOf = (args: unknown[]) => args[0] as CommandCall;
const getter = (a: unknown) => a as Getter;
const COMMAND_FORMS: ("fmt")[][] = [3, 4, 5, 6].map((n) => Array<"fmt">(n).fill("fmt"));

/** The function table entries (src/cfg/functions.ts adds them to FUNCTIONS). */
export const NDB_REDIS_FUNCTIONS = {
  redis_cmd: {
    module: "ndb_redis",
    doc: 'redis_cmd(srv, command, [p1, [p2, [p3]],] reply): run the command (words cut at spaces; %s takes the next parameter as one word) and keep its reply for $redis(reply=>...); 1, or -1 on failure or a Redis error reply (logged)',
    forms: COMMAND_FORMS,
    async: true as const,
    compile: (args: Arg[], pos: Pos) => compileCommandCall(args, pos, "redis_cmd") as unknown as Compiled[],
    async run(x: Exec, args: unknown[], pos: Pos): Promise<number> {
      const call = callOf(args);
      const ctx = x.ctx;
      const code = await redisExec(caller(ctx), `${where(pos)}: redis_cmd`, call.server(ctx), words(call, ctx), call.reply(ctx));
      return code < 0 ? -1 : 1;
    },
  },
  redis_pipe_cmd: {
    module: "ndb_redis",
    doc: "redis_pipe_cmd(srv, command, [p1, [p2, [p3]],] reply): queue the command for redis_execute(srv) (at most 1000); 1, or -1",
    forms: COMMAND_FORMS,
    compile: (args: Arg[], pos: Pos) => compileCommandCall(args, pos, "redis_pipe_cmd") as unknown as Compiled[],
    run(x: Exec, args: unknown[], pos: Pos): number {
      const call = callOf(args);
      const ctx = x.ctx;
      return redisAppend(caller(ctx), `${where(pos)}: redis_pipe_cmd`, call.server(ctx), words(call, ctx), call.reply(ctx)) < 0 ? -1 : 1;
    },
  },
  redis_execute: {
    module: "ndb_redis",
    doc: "redis_execute(srv): send the queued commands in one write, each reply into its container; 1, -1 on failure or with nothing queued, -2 while the server is disabled",
    forms: [["fmt"]] as "fmt"[][],
    async: true as const,
    async run(x: Exec, args: unknown[], pos: Pos): Promise<number> {
      const code = await redisExecutePipe(caller(x.ctx), `${where(pos)}: redis_execute`, getter(args[0])(x.ctx));
      return code === 0 ? 1 : code;
    },
  },
  redis_free: {
    module: "ndb_redis",
    doc: "redis_free(reply): free the reply ($redis(reply=>...) reads null after it); 1, or -1 when no command filled it",
    forms: [["fmt"]] as "fmt"[][],
    run(x: Exec, args: unknown[], pos: Pos): number {
      return redisFreeReply(caller(x.ctx), `${where(pos)}: redis_free`, getter(args[0])(x.ctx)) === 0 ? 1 : -1;
    },
  },
};

export { NDB_REDIS_PARAMS };

/** The ndb_redis modparams of one cfg, applied in their order (servers are the
 * process's: a new compile starts from none). */
export function configureNdbRedis(modparams: { name: string; value: string | number; pos: Pos }[]): void {
  resetNdbRedis();
  for (const p of modparams) {
    try {
      setNdbRedisParam(p.name, p.value, (dir) => readdirFiles(dir, /\.(pem|crt)$/i));
    } catch (e) {
      if (e instanceof NdbRedisConfigError) throw new CfgSyntaxError(p.pos, `modparam("ndb_redis", "${p.name}"): ${e.message}`);
      throw e;
    }
  }
}
