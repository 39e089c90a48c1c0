// Minimal typings for restructure (it ships none); used by generated/reference only.
declare module 'restructure' {
  export const uint8: unknown, uint16le: unknown, uint16be: unknown, uint32le: unknown, uint32be: unknown;
  export const int8: unknown, int16le: unknown, int16be: unknown, int32le: unknown, int32be: unknown;
  export class Struct {
    constructor(fields: Record<string, unknown>);
    fromBuffer(bytes: Uint8Array): Record<string, unknown>;
    size(): number;
  }
  export class Array {
    constructor(type: unknown, length: number);
  }
  export class Buffer {
    constructor(length: number);
  }
  export class Reserved {
    constructor(type: unknown, count: number);
  }
}
