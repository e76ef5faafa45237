// What the parser (stage 3) hands to the compiler (stage 4): the cfg file as
// data, with the place of every node for the compiler's errors. Nothing here is
// evaluated; the node kinds follow cfg.y's grammar.
import type { Pos } from "./lexer.ts";

export type Expr =
  | { k: "num"; v: number; pos: Pos }
  | { k: "str"; v: string; pos: Pos }
  | { k: "pv"; spec: string; pos: Pos }
  | { k: "call"; name: string; args: Arg[]; pos: Pos }
  | { k: "route"; target: string | Expr; pos: Pos }
  | { k: "un"; op: string; e: Expr; pos: Pos }
  | { k: "bin"; op: string; l: Expr; r: Expr; pos: Pos }
  | { k: "selval"; c: Expr; a: Expr; b: Expr; pos: Pos };

/** A function argument as written: string, number, bare word or variable. */
export interface Arg {
  k: "str" | "num" | "id" | "pv";
  v: string;
  num?: number;
  pos: Pos;
}

export type CaseLabel = { k: "num"; v: number } | { k: "str"; v: string } | { k: "re"; v: string };

/** `case LABEL:` or, with a null label, `default:`; its statements run on into the next case. */
export interface SwitchCase {
  label: CaseLabel | null;
  body: Stmt[];
  pos: Pos;
}

export type Stmt =
  | { k: "expr"; e: Expr; pos: Pos }
  | { k: "if"; cond: Expr; then: Stmt[]; else?: Stmt[]; pos: Pos }
  | { k: "while"; cond: Expr; body: Stmt[]; pos: Pos }
  | { k: "switch"; e: Expr; cases: SwitchCase[]; pos: Pos }
  | { k: "assign"; pv: string; e: Expr; pos: Pos }
  | { k: "return" | "exit"; e?: Expr; pos: Pos }
  | { k: "drop" | "break"; pos: Pos };

export interface RouteBlock {
  /** request_route, route, event_route, onreply_route, ... */
  kind: string;
  name: string;
  body: Stmt[];
  pos: Pos;
}

export interface CfgTree {
  globals: { name: string; value: string | number; pos: Pos }[];
  modules: { name: string; pos: Pos }[];
  modparams: { module: string; name: string; value: string | number; pos: Pos }[];
  routes: RouteBlock[];
  cfgengine?: { name: string; pos: Pos };
}
