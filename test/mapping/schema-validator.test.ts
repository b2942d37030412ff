// The mapping schema is compiled at build time (scripts/schema-validator.mjs), so that
// `mode: validate` does not compile it at every start. The compiled copy must say what the
// schema says: a schema edit without `npm run build` fails here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error a plain .mjs build script, no type declarations
import { generateSchemaValidator, SCHEMA_VALIDATOR } from '../../scripts/schema-validator.mjs';

describe('the precompiled schema validator', () => {
  it('is what schema/mapping.schema.json compiles to today (run npm run build after editing the schema)', () => {
    expect(readFileSync(SCHEMA_VALIDATOR, 'utf8')).toBe(generateSchemaValidator());
  });
});
