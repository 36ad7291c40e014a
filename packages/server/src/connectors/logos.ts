import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Connector } from './schema.ts';

/**
 * Connector logos as SVG documents, made on the server from installed data only (nothing is fetched):
 * the brand mark from the simple-icons package (CC0) when the connector names one and the package still
 * has it, otherwise a monogram. Both are a 64×64 rounded square so the hub's grid looks even.
 */

const require = createRequire(import.meta.url);

interface BrandIcon {
  title: string;
  hex: string;
  path: string;
}

/** slug → brand colour, from the package's metadata file (read once, on the first brand logo). */
let brandColours: Map<string, string> | undefined;
const iconCache = new Map<string, BrandIcon | null>();

function brandColour(slug: string): string | undefined {
  if (!brandColours) {
    const data = require('simple-icons/icons.json') as { slug: string; hex: string }[];
    brandColours = new Map(data.map((icon) => [icon.slug, icon.hex]));
  }
  return brandColours.get(slug);
}

/** Only plain path data goes into our document: letters of the path grammar, numbers, separators. */
const PATH_DATA = /^[MmLlHhVvCcSsQqTtAaZz0-9eE.,+\-\s]+$/;

/** The simple-icons mark for a slug, or null when the package does not have it (some brands were removed). */
export function brandIcon(slug: string): BrandIcon | null {
  const cached = iconCache.get(slug);
  if (cached !== undefined) return cached;
  let icon: BrandIcon | null = null;
  if (/^[a-z0-9_]+$/.test(slug)) {
    const hex = brandColour(slug);
    if (hex && /^[0-9A-Fa-f]{6}$/.test(hex)) {
      try {
        const file = fs.readFileSync(require.resolve(`simple-icons/icons/${slug}.svg`), 'utf8');
        const title = /<title>([^<]*)<\/title>/.exec(file)?.[1] ?? slug;
        const d = /<path d="([^"]+)"/.exec(file)?.[1];
        if (d && PATH_DATA.test(d)) icon = { title, hex: hex.toUpperCase(), path: d };
      } catch {
        icon = null;
      }
    }
  }
  iconCache.set(slug, icon);
  return icon;
}

export function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
}

/** The logo of a connector: its brand mark when simple-icons has it, a monogram otherwise. */
export function connectorLogoSvg(connector: Pick<Connector, 'key' | 'name' | 'logo'>): string {
  const slug = connector.logo?.simple_icon;
  const icon = slug ? brandIcon(slug) : null;
  return icon ? brandSvg(connector.name, icon) : monogramSvg(connector.key, connector.name);
}

function svgDocument(name: string, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64" role="img">` +
    `<title>${escapeXml(name)}</title>${body}</svg>`
  );
}

/** The mark (24×24 in simple-icons) centred on its brand colour, drawn in whichever of white or black reads better. */
function brandSvg(name: string, icon: BrandIcon): string {
  const background = `#${icon.hex}`;
  const foreground =
    contrastRatio(icon.hex, 'FFFFFF') >= contrastRatio(icon.hex, '000000') ? '#FFFFFF' : '#000000';
  return svgDocument(
    name,
    `<rect width="64" height="64" rx="14" fill="${background}"/>` +
      `<path transform="translate(14 14) scale(1.5)" fill="${foreground}" d="${icon.path}"/>`,
  );
}

/** Tailwind 700-level colours: each carries white text at a contrast ratio of at least 4.5:1. */
export const MONOGRAM_COLOURS = [
  '#B91C1C',
  '#C2410C',
  '#A16207',
  '#15803D',
  '#047857',
  '#0F766E',
  '#0E7490',
  '#1D4ED8',
  '#4338CA',
  '#6D28D9',
  '#A21CAF',
  '#BE185D',
  '#334155',
];

/** One or two letters: the first letters of two words ("Microsoft Teams" → MT) or of two capitals ("BambooHR" → BH). */
export function initialsOf(name: string): string {
  const words = name.split(/[\s._\-/&+]+/u).filter(Boolean);
  const first = (s: string) => Array.from(s)[0] ?? '';
  if (words.length >= 2) return (first(words[0]!) + first(words[1]!)).toUpperCase();
  const word = words[0] ?? '?';
  const capitals = Array.from(word).filter((c) => /\p{Lu}/u.test(c));
  if (capitals.length >= 2) return capitals[0]! + capitals[1]!;
  return first(word).toUpperCase();
}

/** Initials on a rounded square whose colour is derived from the key, so it is stable across restarts. */
export function monogramSvg(key: string, name: string): string {
  const colour =
    MONOGRAM_COLOURS[createHash('sha256').update(key).digest().readUInt32BE(0) % MONOGRAM_COLOURS.length];
  const initials = initialsOf(name);
  const size = Array.from(initials).length > 1 ? 26 : 32;
  return svgDocument(
    name,
    `<rect width="64" height="64" rx="14" fill="${colour}"/>` +
      `<text x="32" y="32" dy="0.35em" text-anchor="middle" fill="#FFFFFF" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif" font-size="${size}" font-weight="600">${escapeXml(initials)}</text>`,
  );
}

function luminance(hex: string): number {
  const channel = (i: number) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
}

function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}
