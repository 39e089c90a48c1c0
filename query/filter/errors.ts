/**
 * The error thrown for filter text that is not valid `ss` filter syntax.
 *
 * `column` is 1-based and counts UTF-16 code units of {@link FilterSyntaxError.input}:
 * the filter text, or for an argv array its elements joined with single spaces.
 * Input that ends too early is reported at `input.length + 1`.
 */
export class FilterSyntaxError extends Error {
  override readonly name = 'FilterSyntaxError';
  /** What is wrong, without the position. */
  readonly reason: string;
  /** 1-based column in {@link FilterSyntaxError.input} where the problem is. */
  readonly column: number;
  /** The text that {@link FilterSyntaxError.column} refers to. */
  readonly input: string;

  constructor(reason: string, column: number, input: string) {
    super(`${reason} at column ${column}`);
    this.reason = reason;
    this.column = column;
    this.input = input;
  }
}

/** Quotes user text for an error message, shortening very long text. */
export function quote(text: string): string {
  return `'${text.length > 40 ? `${text.slice(0, 37)}...` : text}'`;
}
