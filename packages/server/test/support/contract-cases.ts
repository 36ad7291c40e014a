import { type AuthMethod, isSecretField } from '../../src/connectors/auth-schema.ts';
import type { Catalogue } from '../../src/connectors/catalogue.ts';
import type { Connector } from '../../src/connectors/schema.ts';

// What the contract suite runs (test/connector-contracts.test.ts): every (connector, auth method)
// pair, and form values for it made from the connector file alone. The stand-in provider that checks
// what Plugboard then sends is contract-stand-in.ts.

export interface ContractCase {
  connector: Connector;
  method: AuthMethod;
}

/** Every (connector, auth method) pair of the catalogue: new connector files are covered as they land. */
export function contractCases(catalogue: Catalogue): ContractCase[] {
  return catalogue.list().flatMap((connector) => connector.auth.map((method) => ({ connector, method })));
}

export type Values = Record<string, string>;

/**
 * Form values for a method: settings (subdomain, region…) from the field's example (placeholder) or
 * first option, and secrets made from `tag`, so "good" and "bad" secrets differ and both pass the
 * field's validation pattern. Throws when no candidate fits the pattern: give the field a placeholder
 * that matches it.
 */
export function sampleValues(connector: Connector, method: AuthMethod, tag: 'good' | 'bad'): Values {
  const values: Values = {};
  for (const field of method.fields) {
    const pattern = field.validation ? new RegExp(field.validation.pattern) : undefined;
    const example = (field.placeholder ?? '').replace(/(…|\.\.\.)$/, '').trim();
    // Distinct per tag, so "good" and "bad" secrets differ, in the shapes keys usually have.
    const digit = tag === 'good' ? '1' : '2';
    const hex = tag === 'good' ? 'a' : 'b';
    const shapes = [
      ...[16, 24, 32, 40, 48, 64].map((n) => hex.repeat(n)),
      ...[8, 10, 12, 16].map((n) => digit.repeat(n)),
      `${digit.repeat(8)}-${digit.repeat(4)}-4${digit.repeat(3)}-8${digit.repeat(3)}-${digit.repeat(12)}`,
    ];
    const candidates = isSecretField(field)
      ? [
          `${tag}-${connector.key}-${field.key}-0123456789abcdef`,
          `${example}${tag}0123456789abcdef`,
          `${tag}0123456789abcdef`,
          ...shapes,
        ]
      : [
          ...(field.placeholder ? [field.placeholder] : []),
          ...(field.options ? [field.options[0]!.value] : []),
          `${field.key.replace(/_/g, '-')}-${connector.key}`,
          'acme',
          '1234567',
          ...shapes,
        ];
    const value = candidates.find((c) => !pattern || pattern.test(c));
    if (value === undefined) {
      throw new Error(
        `${connector.key}: auth.${method.key}.fields.${field.key}: no sample value matches ${field.validation!.pattern}; give the field a placeholder that does`,
      );
    }
    values[field.key] = value;
  }
  return values;
}
