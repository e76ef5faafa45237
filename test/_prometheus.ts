// A strict reader of the Prometheus text exposition format (0.0.4), for the
// tests: every line must be a HELP, a TYPE, a sample of a family whose TYPE came
// before it, or blank; a family appears once, its samples together; a value is
// Go float syntax. Anything else throws, naming the line.
const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const VALUE = "[+-]?(?:\\d+(?:\\.\\d*)?(?:[eE][+-]?\\d+)?|\\.\\d+(?:[eE][+-]?\\d+)?|Inf)|NaN";
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(${LABEL}(?:,${LABEL})*)?\\})? (${VALUE})$`);
const HELP = new RegExp(`^# HELP (${NAME}) ((?:[^\\\\\\n]|\\\\[\\\\n])*)$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const LABEL_G = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/g;

export interface Exposition {
  types: Map<string, string>;
  /** `name{a="x",b="y"}` (labels sorted by name, values unescaped) -> value */
  samples: Map<string, number>;
}

const unescape = (v: string) => v.replace(/\\([\\"n])/g, (_m, c: string) => (c === "n" ? "\n" : c));

export function seriesKey(name: string, labels: Record<string, string> = {}): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return pairs.length ? `${name}{${pairs.join(",")}}` : name;
}

/** the family a sample belongs to: a histogram's _bucket, _sum and _count are its own */
function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  return m && types.get(m[1]) === "histogram" ? m[1] : undefined;
}

export function parseExposition(text: string): Exposition {
  if (!text.endsWith("\n")) throw new Error("the exposition does not end with a line feed");
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  const closed = new Set<string>();
  let current: string | undefined;
  text
    .slice(0, -1)
    .split("\n")
    .forEach((line, i) => {
      const where = `line ${i + 1} ${JSON.stringify(line)}`;
      if (line === "") return;
      const help = HELP.exec(line);
      const type = TYPE.exec(line);
      if (help || type) {
        const name = (help ?? type)![1];
        if (closed.has(name)) throw new Error(`${where}: family ${name} appears twice`);
        if (current !== name && current !== undefined) closed.add(current);
        current = name;
        if (type) {
          if (types.has(name)) throw new Error(`${where}: a second TYPE for ${name}`);
          types.set(name, type[2]);
        }
        return;
      }
      const m = SAMPLE.exec(line);
      if (!m) throw new Error(`${where}: not a HELP, TYPE or sample line`);
      const family = familyOf(m[1], types);
      if (!family) throw new Error(`${where}: sample of ${m[1]} before its TYPE`);
      if (family !== current) throw new Error(`${where}: sample of ${family} outside its family's lines`);
      const labels: Record<string, string> = {};
      for (const [, k, v] of (m[2] ?? "").matchAll(LABEL_G)) {
        if (Object.hasOwn(labels, k)) throw new Error(`${where}: label ${k} twice`);
        labels[k] = unescape(v);
      }
      const key = seriesKey(m[1], labels);
      if (samples.has(key)) throw new Error(`${where}: series ${key} twice`);
      const raw = m[3];
      samples.set(key, raw === "NaN" ? NaN : /Inf$/.test(raw) ? (raw.startsWith("-") ? -Infinity : Infinity) : Number(raw));
    });
  return { types, samples };
}

/** The value of one series, or throws naming the series and what there is. */
export function value(e: Exposition, name: string, labels: Record<string, string> = {}): number {
  const key = seriesKey(name, labels);
  const v = e.samples.get(key);
  if (v === undefined) {
    const near = [...e.samples.keys()].filter((k) => k.startsWith(name)).join("\n  ");
    throw new Error(`no series ${key}; of ${name} there are:\n  ${near}`);
  }
  return v;
}
