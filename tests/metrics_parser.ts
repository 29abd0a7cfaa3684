/** A strict Prometheus text (0.0.4) parser for the metrics tests, written from the format's rules. */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface Family {
  type: string;
  help: string | null;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(text: string, where: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  if (!/^[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)$/.test(text)) {
    throw new Error(`${where}: bad value ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** Parses exposition format 0.0.4 strictly; throws with the line number on any violation. */
export function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith("\n")) throw new Error("exposition must end with a newline");
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  const lines = text.slice(0, -1).split("\n");
  const familyOf = (name: string): Family | undefined => {
    const direct = families.get(name);
    if (direct) return direct;
    for (const suffix of ["_bucket", "_sum", "_count"]) {
      if (name.endsWith(suffix)) {
        const f = families.get(name.slice(0, -suffix.length));
        if (f && f.type === "histogram") return f;
      }
    }
    return undefined;
  };
  lines.forEach((line, i) => {
    const at = `line ${i + 1}`;
    if (line === "") return;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
      if (m === null) return; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      let f = families.get(name);
      if (kind === "TYPE") {
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(rest)) {
          throw new Error(`${at}: unknown type ${rest}`);
        }
        if (f && f.type !== "") throw new Error(`${at}: second TYPE for ${name}`);
        if (f && f.samples.length > 0) throw new Error(`${at}: TYPE after samples of ${name}`);
        if (!f) families.set(name, f = { type: rest, help: null, samples: [] });
        f.type = rest;
      } else {
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ""))) {
          throw new Error(`${at}: bad escape in HELP`);
        }
        if (f && f.help !== null) throw new Error(`${at}: second HELP for ${name}`);
        if (!f) families.set(name, f = { type: "", help: rest, samples: [] });
        f.help = rest;
      }
      return;
    }
    const nm = NAME.exec(line);
    if (nm === null) throw new Error(`${at}: expected a metric name`);
    const name = nm[0];
    let pos = name.length;
    const labels: Record<string, string> = {};
    if (line[pos] === "{") {
      pos++;
      while (line[pos] !== "}") {
        const lm = LABEL.exec(line.slice(pos));
        if (lm === null) throw new Error(`${at}: expected a label name at column ${pos + 1}`);
        const lname = lm[0];
        pos += lname.length;
        if (line.slice(pos, pos + 2) !== '="') throw new Error(`${at}: expected =" after ${lname}`);
        pos += 2;
        let value = "";
        for (;;) {
          const ch = line[pos];
          if (ch === undefined) throw new Error(`${at}: unterminated label value`);
          pos++;
          if (ch === '"') break;
          if (ch === "\\") {
            const e = line[pos++];
            if (e === "\\") value += "\\";
            else if (e === '"') value += '"';
            else if (e === "n") value += "\n";
            else throw new Error(`${at}: bad escape \\${e}`);
          } else {
            value += ch;
          }
        }
        if (lname in labels) throw new Error(`${at}: duplicate label ${lname}`);
        labels[lname] = value;
        if (line[pos] === ",") pos++;
        else if (line[pos] !== "}") throw new Error(`${at}: expected , or } at column ${pos + 1}`);
      }
      pos++;
    }
    if (line[pos] !== " ") throw new Error(`${at}: expected a space before the value`);
    const parts = line.slice(pos + 1).split(" ");
    if (parts.length > 2 || parts[0] === "") throw new Error(`${at}: expected "value [timestamp]"`);
    const value = parseValue(parts[0]!, at);
    const f = familyOf(name);
    if (!f || f.type === "") throw new Error(`${at}: sample ${name} without a TYPE line before it`);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (seen.has(key)) throw new Error(`${at}: duplicate series ${key}`);
    seen.add(key);
    f.samples.push({ name, labels, value });
  });
  for (const [name, f] of families) {
    if (f.type !== "histogram") continue;
    const groups = new Map<string, Sample[]>();
    for (const s of f.samples) {
      const { le: _le, ...rest } = s.labels;
      const k = JSON.stringify(Object.entries(rest).sort());
      groups.set(k, [...(groups.get(k) ?? []), s]);
    }
    for (const [k, group] of groups) {
      const buckets = group.filter((s) => s.name === `${name}_bucket`);
      const count = group.find((s) => s.name === `${name}_count`);
      const sum = group.find((s) => s.name === `${name}_sum`);
      if (!count || !sum) throw new Error(`${name}${k}: histogram without _sum or _count`);
      let prevLe = -Infinity;
      let prev = 0;
      for (const b of buckets) {
        const le = parseValue(b.labels.le ?? "", `${name} le`);
        if (!(le > prevLe)) throw new Error(`${name}${k}: le not increasing`);
        if (b.value < prev) throw new Error(`${name}${k}: buckets not cumulative`);
        prevLe = le;
        prev = b.value;
      }
      if (prevLe !== Infinity) throw new Error(`${name}${k}: last bucket is not +Inf`);
      if (prev !== count.value) throw new Error(`${name}${k}: +Inf bucket ${prev} != _count`);
    }
  }
  return families;
}
