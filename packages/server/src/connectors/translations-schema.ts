import { z } from 'zod';

/** The "translations" part of a connector file: the texts end users see, in the hub's other languages. */

/** Hub languages besides English that connector files may carry texts for. */
export const TRANSLATED_LANGUAGES = ['de', 'fr', 'es'] as const;

/** One language's texts: anything left out falls back to the English in the file. */
export const translationSchema = z.strictObject({
  name: z.string().min(1).optional(),
  notices: z.array(z.string().min(1)).optional(),
  support_description: z.string().min(1).optional(),
  /** Auth method labels by method key. */
  auth_labels: z.record(z.string(), z.string().min(1)).optional(),
  /** Field texts by field key (the same key means the same field in every auth method). */
  fields: z
    .record(
      z.string(),
      z.strictObject({
        label: z.string().min(1).optional(),
        description: z.string().min(1).optional(),
        placeholder: z.string().min(1).optional(),
        /** Select option labels by option value. */
        options: z.record(z.string(), z.string().min(1)).optional(),
        validation_message: z.string().min(1).optional(),
      }),
    )
    .optional(),
});
