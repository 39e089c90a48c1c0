/**
 * A small reader of preprocessed C (`gcc -E -dD` output): the `#define`s, enum
 * constants, and struct/union members that the headers declare, each with the header
 * file it came from (taken from the preprocessor's line markers). It understands
 * just enough C for uapi headers: it finds `struct|union|enum [tag] { ... }` bodies
 * anywhere and skips everything else (prototypes, typedefs, inline functions).
 */

/** An object-like `#define` with a non-empty body. */
export interface CDefine {
  name: string;
  body: string;
  file: string;
}

/** An enum constant, with the enum block it belongs to. */
export interface CEnumConst {
  name: string;
  file: string;
  /** Index of the enum block in {@link CHeaders.enums}. */
  block: number;
}

/** One `enum [tag] { ... }` block. */
export interface CEnum {
  tag?: string;
  file: string;
  names: string[];
}

/** A struct or union member, as declared. Members of anonymous structs and unions are lifted into their parent, as C lets code name them. */
export interface CMember {
  name: string;
  /** True for a bit field (`x : 3`). */
  bitField: boolean;
  /** Number of array dimensions (`x[2]` is 1). */
  dims: number;
  /** True for a flexible array member (`x[]`), whose size cannot be taken. */
  flexible: boolean;
  /** True when the member's type is a struct or union (not an integer). */
  record: boolean;
  /** The declared type as written, e.g. `__u32` or `struct inet_diag_sockid`. */
  type: string;
}

/** A tagged struct or union definition; `name` is `struct tag` or `union tag`. */
export interface CRecord {
  name: string;
  file: string;
  members: CMember[];
}

/** What a preprocessed translation unit declares. */
export interface CHeaders {
  defines: Map<string, CDefine>;
  /** Names of every macro, function-like and empty ones included. */
  macros: Set<string>;
  enumConsts: Map<string, CEnumConst>;
  enums: CEnum[];
  records: Map<string, CRecord>;
}

interface Token {
  text: string;
  file: string;
}

const tokenRe = /\s+|\/\*[\s\S]*?\*\/|\/\/[^\n]*|"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|[A-Za-z_]\w*|\.?\d(?:[eEpP][+-]|[\w.])*|\.\.\.|[^\s]/g;
const isIdent = (t: string | undefined): boolean => t !== undefined && /^[A-Za-z_]\w*$/.test(t);

/** Parses `gcc -E -dD` output. */
export function parsePreprocessed(text: string): CHeaders {
  const out: CHeaders = { defines: new Map(), macros: new Set(), enumConsts: new Map(), enums: [], records: new Map() };
  const tokens: Token[] = [];
  let file = '';
  for (const line of text.split('\n')) {
    const marker = /^# \d+ "((?:\\.|[^"\\])*)"/.exec(line);
    if (marker) {
      file = marker[1]!;
      continue;
    }
    const def = /^#define ([A-Za-z_]\w*)(\(?)\s*(.*)$/.exec(line);
    if (def) {
      const [, name, paren, body] = def;
      out.macros.add(name!);
      if (!paren && body!.trim() !== '') out.defines.set(name!, { name: name!, body: body!.trim(), file });
      else out.defines.delete(name!);
      continue;
    }
    const undef = /^#undef ([A-Za-z_]\w*)/.exec(line);
    if (undef) {
      out.macros.delete(undef[1]!);
      out.defines.delete(undef[1]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    for (const m of line.matchAll(tokenRe)) if (!/^\s|^\/[*/]/.test(m[0])) tokens.push({ text: m[0], file });
  }
  new Parser(tokens, out).run();
  return out;
}

class Parser {
  private i = 0;

  constructor(
    private readonly t: Token[],
    private readonly out: CHeaders,
  ) {}

  private at(k = 0): string | undefined {
    return this.t[this.i + k]?.text;
  }

  run(): void {
    while (this.i < this.t.length) {
      if (!this.definition()) this.i++;
    }
  }

  /** At `struct|union|enum [tag] {`, parses the definition and returns its members (for anonymous ones). */
  private definition(): CMember[] | undefined {
    const kw = this.at();
    if (kw !== 'struct' && kw !== 'union' && kw !== 'enum') return undefined;
    const tag = isIdent(this.at(1)) ? this.at(1) : undefined;
    if (this.at(tag ? 2 : 1) !== '{') return undefined;
    const file = this.t[this.i]!.file;
    this.i += tag ? 3 : 2;
    if (kw === 'enum') {
      this.enumBody(tag, file);
      return [];
    }
    const members = this.recordBody();
    if (tag) this.out.records.set(`${kw} ${tag}`, { name: `${kw} ${tag}`, file, members });
    return members;
  }

  /** Skips a balanced group starting at an opening bracket. */
  private skipGroup(): void {
    let depth = 0;
    do {
      const x = this.at();
      if (x === '(' || x === '[' || x === '{') depth++;
      else if (x === ')' || x === ']' || x === '}') depth--;
      this.i++;
    } while (depth > 0 && this.i < this.t.length);
  }

  private enumBody(tag: string | undefined, file: string): void {
    const block = this.out.enums.length;
    const e: CEnum = { tag, file, names: [] };
    this.out.enums.push(e);
    let expectName = true;
    while (this.i < this.t.length && this.at() !== '}') {
      const x = this.at()!;
      if (x === '(' || x === '[') {
        this.skipGroup();
        continue;
      }
      if (x === ',') expectName = true;
      else if (expectName && isIdent(x)) {
        e.names.push(x);
        this.out.enumConsts.set(x, { name: x, file: this.t[this.i]!.file, block });
        expectName = false;
      }
      this.i++;
    }
    this.i++; // '}'
  }

  /** Parses members up to the closing brace (consumed). */
  private recordBody(): CMember[] {
    const members: CMember[] = [];
    while (this.i < this.t.length && this.at() !== '}') {
      // One declaration: a type (maybe a nested definition), then declarators, then ';'.
      let nested: CMember[] | undefined;
      let record = false;
      const kw = this.at();
      if (kw === 'struct' || kw === 'union' || kw === 'enum') {
        record = kw !== 'enum';
        nested = this.definition();
      }
      let decl: string[] = [];
      const declarators: string[][] = [];
      while (this.i < this.t.length && this.at() !== ';' && this.at() !== '}') {
        const x = this.at()!;
        if (x === '__attribute__' || x === '__extension__') {
          this.i++;
          if (this.at() === '(') this.skipGroup();
          continue;
        }
        if (x === '(' || x === '[' || x === '{') {
          const start = this.i;
          this.skipGroup();
          decl.push(...this.t.slice(start, this.i).map((k) => k.text));
          continue;
        }
        if (x === ',') {
          declarators.push(decl);
          decl = [];
        } else decl.push(x);
        this.i++;
      }
      if (this.at() === ';') this.i++;
      declarators.push(decl);
      if (nested && declarators.length === 1 && declarators[0]!.length === 0) {
        members.push(...nested); // anonymous struct or union: its members belong to us
        continue;
      }
      if (declarators[0]![0] === 'struct' || declarators[0]![0] === 'union') record = true;
      const first = declarators[0]!;
      const firstCut = first.findIndex((x) => x === '[' || x === ':');
      const type = (firstCut < 0 ? first : first.slice(0, firstCut)).slice(0, -1).join(' ');
      for (const d of declarators) {
        const cut = d.findIndex((x) => x === '[' || x === ':');
        const head = cut < 0 ? d : d.slice(0, cut);
        const name = [...head].reverse().find((x) => isIdent(x) && x !== 'struct' && x !== 'union');
        if (!name) continue;
        const rest = cut < 0 ? [] : d.slice(cut);
        const dims = rest.filter((x) => x === '[').length;
        members.push({
          name,
          bitField: rest[0] === ':',
          dims,
          flexible: rest[0] === '[' && rest[1] === ']',
          record: record && !d.includes('*'),
          type,
        });
      }
    }
    this.i++; // '}'
    return members;
  }
}
