/**
 * One set of design tokens for every Plugboard front end: the hub element and the console build their
 * CSS custom properties from these values, so both look like one product in light and dark.
 */
export interface Palette {
  accent: string;
  accentFg: string;
  bg: string;
  fg: string;
  muted: string;
  border: string;
  surface: string;
  error: string;
  success: string;
  warning: string;
}

export const palette: Record<'light' | 'dark', Palette> = {
  light: {
    accent: '#4f46e5',
    accentFg: '#ffffff',
    bg: '#ffffff',
    fg: '#111827',
    muted: '#6b7280',
    border: '#d1d5db',
    surface: '#f9fafb',
    error: '#b91c1c',
    success: '#047857',
    warning: '#b45309',
  },
  dark: {
    accent: '#818cf8',
    accentFg: '#111827',
    bg: '#111827',
    fg: '#f3f4f6',
    muted: '#9ca3af',
    border: '#374151',
    surface: '#1f2937',
    error: '#fca5a5',
    success: '#6ee7b7',
    warning: '#fcd34d',
  },
};

export const radius = '10px';
export const font = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
export const monoFont = 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';
/** Spacing steps in px: 4, 8, 12, 16, 24, 32. */
export const space = [4, 8, 12, 16, 24, 32] as const;
