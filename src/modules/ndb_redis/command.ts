// A redis_cmd command as hiredis's redisvFormatCommand reads it: the text is cut
// into words at spaces (several spaces are one cut), "%s" puts the next parameter
// into the word it stands in (an empty parameter is still a word), "%%" is a "%".
// The words go out as a RESP array (resp.ts), so a parameter is always exactly one
// word, whatever bytes it holds.
//
// In a .cfg the command is also a format with variables ("SET ruri $ru"): Kamailio
// expands them into the text before hiredis cuts it, so a value with a space in it
// becomes several words. Here a variable's value stays inside the word it is
// written in (src/cfg/ndb-redis.ts builds the template): a value from a request
// can never add a word to a command.

/** One step of building the words: literal text, a cut, the next %s parameter,
 * or (cfg) a variable's value. */
export type CommandPart<C = unknown> =
  | { kind: "text"; text: string }
  | { kind: "cut" }
  | { kind: "param" }
  | { kind: "value"; get: (ctx: C) => string };

export class CommandFormatError extends Error {}

/** The parts of literal command text; a "%" other than %s and %% is refused. */
export function parseCommandText<C>(text: string, parts: CommandPart<C>[] = []): CommandPart<C>[] {
  let lit = "";
  const flush = () => {
    if (lit) parts.push({ kind: "text", text: lit });
    lit = "";
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === " ") {
      flush();
      parts.push({ kind: "cut" });
    } else if (c === "%" && i + 1 < text.length) {
      const d = text[++i];
      if (d === "s") {
        flush();
        parts.push({ kind: "param" });
      } else if (d === "%") lit += "%";
      else if (d === "b") {
        throw new CommandFormatError(`"%b" (binary with a length) is not supported in a command: use %s`);
      } else {
        throw new CommandFormatError(`"%${d}" in the command: only %s (the next parameter) and %% (a "%") are directives`);
      }
    } else lit += c;
  }
  flush();
  return parts;
}

/** How many %s parameters the parts take. */
export function paramCount(parts: readonly CommandPart<never>[] | readonly CommandPart<unknown>[]): number {
  let n = 0;
  for (const p of parts) if (p.kind === "param") n++;
  return n;
}

/** The words of the command: a word ends at a cut once anything was put in it
 * (hiredis's "touched": an empty %s parameter counts, an empty variable does not). */
export function buildWords<C>(parts: readonly CommandPart<C>[], params: readonly string[], ctx: C): string[] {
  const words: string[] = [];
  let word = "";
  let touched = false;
  let next = 0;
  for (const p of parts) {
    switch (p.kind) {
      case "text":
        word += p.text;
        touched = true;
        break;
      case "param":
        word += params[next++];
        touched = true;
        break;
      case "value": {
        const v = p.get(ctx);
        if (v !== "") {
          word += v;
          touched = true;
        }
        break;
      }
      case "cut":
        if (touched) words.push(word);
        word = "";
        touched = false;
    }
  }
  if (touched) words.push(word);
  return words;
}

/** A KEMI command: its text and its parameters, checked as one. */
export function kemiWords(command: string, params: readonly string[]): string[] {
  const parts = parseCommandText<undefined>(command);
  const wanted = paramCount(parts);
  if (wanted !== params.length) {
    throw new CommandFormatError(`the command has ${wanted} %s for ${params.length} parameter(s)`);
  }
  const words = buildWords(parts, params, undefined);
  if (words.length === 0) throw new CommandFormatError("the command is empty");
  return words;
}
