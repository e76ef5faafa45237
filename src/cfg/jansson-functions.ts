// The jansson module's cfg functions (its cmd_export_t), on the engine in
// src/modules/jansson.ts that KSR.jansson uses too. Every destination is a
// writable variable, checked at start-up.
import type { RequestContext } from "../context.ts";
import { janssonArraySize, janssonGet, janssonSet, type Outcome } from "../modules/jansson.ts";
import type { Pos } from "./lexer.ts";
import type { CfgPv } from "./pvs.ts";
import { runtimeError, type Exec } from "./runtime.ts";
import type { FunctionSpec, ImmediateRun } from "./function-spec.ts";

type Text = (ctx: RequestContext) => string;

/** 1 with the value stored, or -1 (with an error log when jansson would log one). */
function store(x: Exec, outcome: Outcome, dst: CfgPv, pos: Pos, fn: string): number {
  if (outcome.ok) {
    dst.set!(x.ctx, outcome.value);
    return 1;
  }
  if (outcome.why) runtimeError(x.ctx, pos, `${fn}: ${outcome.why}`);
  return -1;
}

function getter(fn: "jansson_get" | "jansson_get_field", byField: boolean): ImmediateRun {
  return (x, args, pos) => {
    const ctx = x.ctx;
    return store(x, janssonGet((args[0] as Text)(ctx), (args[1] as Text)(ctx), byField), args[2] as CfgPv, pos, fn);
  };
}

function setter(fn: "jansson_set" | "jansson_append", append: boolean): ImmediateRun {
  return (x, args, pos) => {
    const ctx = x.ctx;
    const dst = args[3] as CfgPv;
    return store(x, janssonSet((args[0] as Text)(ctx), (args[1] as Text)(ctx), (args[2] as Text)(ctx), dst.get(ctx), append), dst, pos, fn);
  };
}

const TYPES = "integer|int, real, string|str, object|obj, array, true, false, null";

export const JANSSON_FUNCTIONS: Record<string, FunctionSpec> = {
  jansson_get: {
    module: "jansson",
    doc: 'jansson_get(path, json, "$var(dst)"): the value at path ("a.b[0]", "[1]"; "" is the whole document) into dst: text, an integer (text beyond 32 bits), 1/0 for true/false, null, a real as "%.15g" text, an object or array as compact JSON; 1, or -1 when the JSON is invalid (logged) or the path is not there (dst unchanged)',
    forms: [["fmt", "fmt", "pvdst"]],
    run: getter("jansson_get", false),
  },
  jansson_get_field: {
    module: "jansson",
    doc: 'jansson_get_field(field, json, "$var(dst)"): like jansson_get for one key of the top-level object, taken as it is (dots and brackets included)',
    forms: [["fmt", "fmt", "pvdst"]],
    run: getter("jansson_get_field", true),
  },
  jansson_set: {
    module: "jansson",
    doc: `jansson_set(type, path, value, "$var(json)"): put value, as type (${TYPES}; the value is ignored for true, false, null), at path in the JSON held by the variable (a variable without a string starts as {}); objects on the path are made; 1, or -1 and an error log`,
    forms: [["fmt", "fmt", "fmt", "pvdst"]],
    run: setter("jansson_set", false),
  },
  jansson_append: {
    module: "jansson",
    doc: 'jansson_append(type, path, value, "$var(json)"): like jansson_set, but appends to the array at path ("" for the top level), or merges an object value into the object there; 1, or -1 and an error log',
    forms: [["fmt", "fmt", "fmt", "pvdst"]],
    run: setter("jansson_append", true),
  },
  jansson_array_size: {
    module: "jansson",
    doc: 'jansson_array_size(path, json, "$var(n)"): the length of the array at path; 1, or -1 and an error log when the JSON is invalid, the path is not there or is not an array',
    forms: [["fmt", "fmt", "pvdst"]],
    run(x, args, pos) {
      const ctx = x.ctx;
      return store(x, janssonArraySize((args[0] as Text)(ctx), (args[1] as Text)(ctx)), args[2] as CfgPv, pos, "jansson_array_size");
    },
  },
};
