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
