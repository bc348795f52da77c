// The JSON-schema validator of the API (Ajv), one configuration for every request part; the
// API-object tests validate served objects with the same one.
import { Ajv, type Options as AjvOptions } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * Unknown fields are an error, never silently dropped. Query strings, path parameters and form
 * bodies are text, so they are coerced to the schema's types (`coerce`); JSON is not.
 */
export function createValidator(coerce: boolean): Ajv {
  const options: AjvOptions = {
    removeAdditional: false,
    useDefaults: true,
    allErrors: false,
    strict: false,
    // Non-finite numbers (`1e400`, `Infinity`) are never numbers here.
    strictNumbers: true,
    coerceTypes: coerce ? 'array' : false,
  };
  const ajv = new Ajv(options);
  addFormats.default(ajv);
  return ajv;
}
