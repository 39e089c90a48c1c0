/**
 * The integer types of the schema as the emitters write them: their sizes and the
 * DataView methods that read them.
 */
import type { IntType } from './model.js';

export const intSize: Record<IntType, number> = { u8: 1, u16: 2, u32: 4, u64: 8, s8: 1, s16: 2, s32: 4, s64: 8 };

/** The DataView getter of each type (the setter is its `set` twin). */
export const getter: Record<IntType, string> = {
  u8: 'getUint8', u16: 'getUint16', u32: 'getUint32', u64: 'getBigUint64',
  s8: 'getInt8', s16: 'getInt16', s32: 'getInt32', s64: 'getBigInt64',
};

/** Whether a type decodes to a bigint. */
export const is64 = (t: string) => t === 'u64' || t === 's64';

export const isInt = (t: string): t is IntType => t in intSize;
