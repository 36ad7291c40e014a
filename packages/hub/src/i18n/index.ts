import { de } from './de.ts';
import { en, type MessageKey } from './en.ts';
import { es } from './es.ts';
import { fr } from './fr.ts';

export type Locale = 'en' | 'de' | 'fr' | 'es';
export type Translate = (key: MessageKey, params?: Record<string, string>) => string;

const catalogues: Record<Locale, Record<MessageKey, string>> = { en, de, fr, es };

/** The `lang` attribute wins, then the browser's preferences; English when nothing matches. */
export function pickLocale(attribute: string | null | undefined, preferred: readonly string[] = []): Locale {
  for (const candidate of [attribute, ...preferred]) {
    const base = candidate?.toLowerCase().split(/[-_]/)[0];
    if (base && base in catalogues) return base as Locale;
  }
  return 'en';
}

/** Missing translations fall back to English, so a partial catalogue never shows a raw key. */
export function translator(locale: Locale): Translate {
  const messages = catalogues[locale];
  return (key, params = {}) =>
    (messages[key] ?? en[key]).replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? `{${name}}`);
}
