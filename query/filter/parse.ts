/**
 * A parser for ss's filter expressions (iproute2 misc/ssfilter.y), with column-accurate
 * errors. It keeps ss's grammar, including two quirks worth knowing:
 *
 * - `and` and `or` have the same precedence and group left to right, so
 *   `a or b and c` is `(a or b) and c`; adjacent terms are joined by `and`.
 * - Tokens are split on whitespace only, so parentheses need spaces: `( sport = :22 )`.
 *
 * The parser runs on an explicit stack, so deep nesting cannot overflow the call stack;
 * ASTs deeper than {@link MAX_FILTER_DEPTH} are rejected.
 */
import { MAX_FILTER_DEPTH, type FilterNode, type PortOp } from './ast.js';
import { FilterSyntaxError, quote } from './errors.js';
import { lookupService } from './system.js';
import {
  keyword, parseCgroup, parseDevice, parseHostSpec, parseMark, parsePortValue, ValueError,
  type Keyword, type ServiceResolver,
} from './values.js';

/** Options for {@link parseFilter}. */
export interface ParseOptions {
  /** Resolves service names such as `https`; defaults to reading /etc/services once. */
  readonly services?: ServiceResolver;
  /**
   * Reads every `src`/`dst` value as a UNIX name pattern, as ss does when it lists UNIX
   * sockets only (`ss -x src '/tmp/*'`). Without it, a value needs the `unix:` prefix.
   */
  readonly unixNames?: boolean;
}

interface Token {
  /** The text with backslash escapes removed. */
  readonly text: string;
  /** The token as written. */
  readonly raw: string;
  /** 0-based offset of `raw` in the input. */
  readonly start: number;
  readonly keyword: Keyword | undefined;
}

interface Built {
  readonly node: FilterNode;
  readonly depth: number;
  /** The args array of `node` when this group's fold built it and may still extend it. */
  readonly args?: FilterNode[];
}

/** An open group: the top level, or everything after one `(`. */
interface Frame {
  readonly open?: Token;
  acc?: Built;
  /** An explicit `and`/`or` waiting for its right-hand term. */
  op?: Token;
  /** `!`/`not` tokens waiting for their term, outermost first. */
  nots: Token[];
}

/** A token as ss's get_token_from_line() splits: whitespace ends it, `\\` escapes any character. */
const TOKEN = /(?:\\[\s\S]?|[^ \t\n\r\f\v\\])+/g;

function tokenize(chunk: string, base: number, tokens: Token[]): void {
  for (const match of chunk.matchAll(TOKEN)) {
    const raw = match[0];
    const text = raw.includes('\\') ? raw.replace(/\\([\s\S]?)/g, '$1') : raw;
    if (text !== '') tokens.push({ text, raw, start: base + match.index, keyword: keyword(text) });
  }
}

/** The 1-based column where character `offset` of `token.text` is written (its `\\`, if escaped). */
function columnOf(token: Token, offset = 0): number {
  let rawOffset = 0;
  for (let i = 0; i < offset && rawOffset < token.raw.length; i++) {
    rawOffset += token.raw[rawOffset] === '\\' ? 2 : 1;
  }
  return token.start + Math.min(rawOffset, token.raw.length) + 1;
}

type ConditionKeyword = 'src' | 'dst' | 'sport' | 'dport' | 'dev' | 'fwmark' | 'cgroup';

/** What each condition keyword expects as its value, for messages. */
const VALUE_NAMES: Readonly<Record<ConditionKeyword, string>> = {
  src: 'an address', dst: 'an address', sport: 'a port', dport: 'a port',
  dev: 'an interface name or index', fwmark: 'a mark', cgroup: 'a cgroup path or id',
};

function isCondition(kw: Keyword | undefined): kw is ConditionKeyword {
  return kw !== undefined && Object.hasOwn(VALUE_NAMES, kw);
}

function isPortOp(kw: Keyword | undefined): kw is PortOp {
  return kw === '=' || kw === '!=' || kw === '<' || kw === '<=' || kw === '>' || kw === '>=';
}

/** Can this token start a term (and so follow another term, joined by an implicit `and`)? */
function startsTerm(kw: Keyword | undefined): boolean {
  return kw === 'not' || kw === '(' || kw === 'autobound' || isCondition(kw);
}

/** A reminder that ss splits tokens on whitespace only, for text like `(sport` or `:22)`. */
function spacingHint(token: Token | undefined): string {
  const text = token?.text ?? '';
  return text.length > 1 && (text.startsWith('(') || text.endsWith(')')) ? '; put spaces around parentheses' : '';
}

/**
 * Parses an ss filter expression such as `dport = :https and not src 10.0.0.0/8`.
 *
 * An array is treated as argv tokens: ss joins them, and columns refer to the elements
 * joined with single spaces (each element is also split on whitespace, as ss does).
 * Returns `null` for an empty expression, which ss accepts as "no filter".
 *
 * @throws FilterSyntaxError with the 1-based column of the problem.
 */
export function parseFilter(input: string | readonly string[], options: ParseOptions = {}): FilterNode | null {
  if (typeof input !== 'string' && !(Array.isArray(input) && input.every((w) => typeof w === 'string'))) {
    throw new TypeError(`parseFilter() takes filter text, or its words as an array of strings, not ${typeof input}`);
  }
  const text = typeof input === 'string' ? input : input.join(' ');
  const tokens: Token[] = [];
  if (typeof input === 'string') {
    tokenize(input, 0, tokens);
  } else {
    let base = 0;
    for (const chunk of input) {
      tokenize(chunk, base, tokens);
      base += chunk.length + 1;
    }
  }
  return new Parser(text, tokens, options.services ?? lookupService, options.unixNames ?? false).run();
}

class Parser {
  private readonly stack: Frame[] = [{ nots: [] }];
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: readonly Token[],
    private readonly services: ServiceResolver,
    private readonly unixNames: boolean,
  ) {}

  run(): FilterNode | null {
    if (this.tokens.length === 0) return null;
    do this.term();
    while (this.afterTerm());
    return this.frame.acc?.node ?? null;
  }

  /** The innermost open group; the top-level frame is never popped. */
  private get frame(): Frame {
    return this.stack[this.stack.length - 1]!;
  }

  private fail(reason: string, at: Token | undefined): never {
    throw new FilterSyntaxError(reason, at ? columnOf(at) : this.text.length + 1, this.text);
  }

  /** Consumes `!`s and `(`s up to and including one condition. */
  private term(): void {
    for (;;) {
      const token = this.tokens[this.pos];
      const kw = token?.keyword;
      if (!token || !startsTerm(kw)) {
        const previous = this.tokens[this.pos - 1];
        if (!token && previous) this.fail(`expected a filter term after ${quote(previous.text)}`, token);
        this.fail(`expected a filter term, found ${quote(token?.text ?? '')}${spacingHint(token)}`, token);
      }
      if (isCondition(kw)) return this.complete(this.condition(token, kw), token);
      this.pos++;
      if (kw === 'autobound') return this.complete({ node: { kind: 'autobound' }, depth: 0 }, token);
      if (kw === 'not') this.frame.nots.push(token);
      else this.stack.push({ open: token, nots: [] });
    }
  }

  /** Consumes what follows a term up to the next term; false once the input is done. */
  private afterTerm(): boolean {
    for (;;) {
      const token = this.tokens[this.pos];
      if (!token) {
        if (this.frame.open) this.fail("unclosed '('", this.frame.open);
        return false;
      }
      if (startsTerm(token.keyword)) return true;
      if (token.keyword === 'and' || token.keyword === 'or') {
        this.frame.op = token;
        this.pos++;
        return true;
      }
      if (token.keyword !== ')') {
        const hint = spacingHint(token);
        this.fail(`unexpected ${quote(token.text)}; expected 'and', 'or', ')' or another term${hint}`, token);
      }
      if (this.stack.length === 1) this.fail("unmatched ')'", token);
      // A group gets here only after a term, so it holds one.
      const group = this.stack.pop()!.acc!;
      this.pos++;
      this.complete({ node: group.node, depth: group.depth }, token);
    }
  }

  /** Parses `KEYWORD [OP] VALUE` at `pos` and moves past it. */
  private condition(keywordToken: Token, kw: ConditionKeyword): Built {
    let next = this.pos + 1;
    const opKeyword = this.tokens[next]?.keyword;
    const op = isPortOp(opKeyword) ? opKeyword : undefined;
    const opToken = op ? this.tokens[next++] : undefined;
    if (op && !(kw === 'sport' || kw === 'dport' || op === '=' || (op === '!=' && kw !== 'src' && kw !== 'dst'))) {
      const only = kw === 'src' || kw === 'dst' ? "only '='" : "only '=' and '!='";
      this.fail(`${quote(kw)} does not take ${quote(opToken?.text ?? '')} (${only})`, opToken);
    }
    const value = this.tokens[next];
    if (!value || value.keyword) {
      const context = opToken ? `${keywordToken.text} ${opToken.text}` : keywordToken.text;
      const found = value ? `, found ${quote(value.text)}` : '';
      this.fail(`expected ${VALUE_NAMES[kw]} after ${quote(context)}${found}`, value);
    }
    this.pos = next + 1;
    const leaf = this.leaf(kw, op ?? '=', value);
    return op === '!=' && leaf.kind !== 'port' ? { node: { kind: 'not', arg: leaf }, depth: 1 } : { node: leaf, depth: 0 };
  }

  private leaf(kw: ConditionKeyword, op: PortOp, value: Token): FilterNode {
    try {
      switch (kw) {
        case 'sport':
        case 'dport': {
          const side = kw === 'sport' ? 'src' : 'dst';
          const port = parsePortValue(value.text, this.services);
          if (port !== null) return { kind: 'port', side, op, port };
          if (op !== '=' && op !== '!=') throw new ValueError(`'${op}' needs a port number, not a wildcard`);
          return { kind: 'host', side, prefix: null, port: null };
        }
        case 'src':
        case 'dst': {
          const unix = value.text.startsWith('unix:') ? value.text.slice(5) : this.unixNames ? value.text : undefined;
          if (unix !== undefined) return { kind: 'unix', side: kw, pattern: unix };
          return { kind: 'host', side: kw, ...parseHostSpec(value.text, this.services) };
        }
        case 'dev':
          return { kind: 'dev', dev: parseDevice(value.text) };
        case 'fwmark':
          return { kind: 'mark', ...parseMark(value.text) };
        case 'cgroup':
          return { kind: 'cgroup', cgroup: parseCgroup(value.text) };
      }
    } catch (error) {
      if (!(error instanceof ValueError)) throw error;
      throw new FilterSyntaxError(`${error.message}${spacingHint(value)}`, columnOf(value, error.offset), this.text);
    }
  }

  /**
   * Adds a finished term to the current group, applying its pending `!`s and the operator
   * before it. `last` is the term's last token, blamed if an implicit `and` gets too deep.
   */
  private complete(term: Built, last: Token): void {
    const frame = this.frame;
    let built = term;
    for (const notToken of frame.nots.reverse()) {
      built = this.checkDepth({ node: { kind: 'not', arg: built.node }, depth: built.depth + 1 }, notToken);
    }
    frame.nots = [];
    const { acc, op } = frame;
    const kind = op?.keyword === 'or' ? 'or' : 'and';
    frame.op = undefined;
    if (!acc) {
      frame.acc = { node: built.node, depth: built.depth };
    } else if (acc.args && acc.node.kind === kind) {
      acc.args.push(built.node);
      frame.acc = this.checkDepth({ ...acc, depth: Math.max(acc.depth, built.depth + 1) }, op ?? last);
    } else {
      const args = [acc.node, built.node];
      const depth = Math.max(acc.depth, built.depth) + 1;
      frame.acc = this.checkDepth({ node: { kind, args }, depth, args }, op ?? last);
    }
  }

  private checkDepth(built: Built, at: Token): Built {
    if (built.depth > MAX_FILTER_DEPTH) {
      this.fail(`filter is nested too deeply (more than ${MAX_FILTER_DEPTH} levels)`, at);
    }
    return built;
  }
}
