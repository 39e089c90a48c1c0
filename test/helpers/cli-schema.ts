/**
 * cli/output.schema.json, compiled with ajv (draft 2020-12): validators for a whole
 * `--json` document and for one `--ndjson` line.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { ROOT } from './cli-netns.js';

export const SCHEMA_PATH = `${ROOT}cli/output.schema.json`;
export const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as {
  $id: string;
  $defs: Record<string, { properties?: Record<string, Record<string, unknown>>; required?: string[]; additionalProperties?: unknown }>;
};

const ajv = new Ajv2020({ strict: true, allErrors: true });
ajv.addSchema(schema);

const get = (ref: string): ValidateFunction => {
  const v = ajv.getSchema(ref);
  if (!v) throw new Error(`no schema at ${ref}`);
  return v;
};

/** Validates a whole `--json` (or `-s --json`) document. */
export const validateDocument = get(schema.$id);
/** Validates one socket (one `--ndjson` line). */
export const validateSocket = get(`${schema.$id}#/$defs/Socket`);

/** The errors of the last validation, readable in a test failure. */
export function errorsText(errors: ErrorObject[] | null | undefined): string {
  return ajv.errorsText(errors, { separator: '\n' });
}
