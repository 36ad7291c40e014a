import type { Connector } from '../connectors/schema.ts';
import { TRANSLATED_LANGUAGES } from '../connectors/translations-schema.ts';

export type TextLanguage = (typeof TRANSLATED_LANGUAGES)[number];

/**
 * The hub's `lang` ("de", "de-CH", "FR") as a language connector files carry texts for; undefined means
 * English, the file itself. Unknown languages fall back to English rather than failing the hub.
 */
export function textLanguage(lang: string | undefined): TextLanguage | undefined {
  const base = lang?.toLowerCase().split(/[-_]/)[0];
  return TRANSLATED_LANGUAGES.find((l) => l === base);
}

/**
 * The connector with its end-user texts (name, notices, help, auth labels, field texts) in `lang`.
 * Whatever the file does not translate stays English; keys, values and everything technical stay as
 * they are, so the form submits exactly what it would in English.
 */
export function localizeConnector(connector: Connector, lang: string | undefined): Connector {
  const language = textLanguage(lang);
  const t = language ? connector.translations?.[language] : undefined;
  if (!t) return connector;
  return {
    ...connector,
    name: t.name ?? connector.name,
    notices: t.notices ?? connector.notices,
    support:
      connector.support && t.support_description
        ? { ...connector.support, description: t.support_description }
        : connector.support,
    auth: connector.auth.map((method) => ({
      ...method,
      label: t.auth_labels?.[method.key] ?? method.label,
      fields: method.fields.map((field) => {
        const f = t.fields?.[field.key];
        if (!f) return field;
        return {
          ...field,
          label: f.label ?? field.label,
          ...(field.description !== undefined || f.description
            ? { description: f.description ?? field.description }
            : {}),
          ...(field.placeholder !== undefined || f.placeholder
            ? { placeholder: f.placeholder ?? field.placeholder }
            : {}),
          ...(field.options
            ? { options: field.options.map((o) => ({ ...o, label: f.options?.[o.value] ?? o.label })) }
            : {}),
          ...(field.validation
            ? {
                validation: {
                  ...field.validation,
                  message: f.validation_message ?? field.validation.message,
                },
              }
            : {}),
        };
      }),
    })),
  };
}
