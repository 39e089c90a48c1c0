/** Conversions between the schema's kebab-case names and C and TypeScript names. */

/** `syn-sent` → `SYN_SENT` */
export const upperSnake = (name: string): string => name.replace(/-/g, '_').toUpperCase();

/** `inet-diag-msg` → `inet_diag_msg` */
export const snake = (name: string): string => name.replace(/-/g, '_');

/** `rcv-wscale` → `rcvWscale` */
export const camel = (name: string): string => name.replace(/[-_]([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** `inet-diag-msg` → `InetDiagMsg` */
export const pascal = (name: string): string => {
  const c = camel(name);
  return c.charAt(0).toUpperCase() + c.slice(1);
};

/**
 * Every module-level name the emitters declare for an item (exported or not), so that
 * the loader can report two items whose TypeScript names collide. Keep in step with
 * emit-enum.ts, emit-struct.ts and emit-attrs.ts.
 */
export function declaredNames(kind: 'const' | 'enum' | 'flags' | 'struct' | 'set', name: string, hasMinSize = false): string[] {
  const P = pascal(name);
  const c = camel(name);
  const U = upperSnake(name);
  switch (kind) {
    case 'const':
      return [U];
    case 'enum':
      return [P, `${P}Name`, `${c}ByValue`, `${c}Name`, `${c}Value`];
    case 'flags':
      return [P, `${P}Name`, `${c}ByValue`, `${c}Names`, `${c}Mask`, `${c}Value`];
    case 'struct':
      return [P, `${U}_SIZE`, ...(hasMinSize ? [`${U}_MIN_SIZE`] : []), `decode${P}`, `write${P}`, `encode${P}`];
    case 'set':
      return [P, `${P}Type`, `decode${P}`, `encode${P}`];
  }
}
