import { createHash } from 'node:crypto';
import type { Connector } from './schema.ts';

type SimpleIcon = { path: string; hex: string; title: string };
let icons: Promise<Record<string, SimpleIcon>> | undefined;

/** simple-icons holds ~3,500 brands; load it on the first logo request rather than at start-up. */
function loadIcons(): Promise<Record<string, SimpleIcon>> {
  icons ??= import('simple-icons') as unknown as Promise<Record<string, SimpleIcon>>;
  return icons;
}

const escapeXml = (s: string) =>
  s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!,
  );

/**
 * The connector's logo as an SVG document: its brand mark from simple-icons when the connector names
 * one (CC0), otherwise a monogram of its initials on a colour derived from its key.
 */
export async function connectorLogoSvg(connector: Connector): Promise<string> {
  const slug = connector.logo?.simple_icon;
  if (slug) {
    const icon = (await loadIcons())[`si${slug[0]!.toUpperCase()}${slug.slice(1)}`];
    if (icon) {
      return (
        `<svg xmlns="http://www.w3.org/2000/svg" viewBox="-4 -4 32 32" role="img" aria-label="${escapeXml(connector.name)}">` +
        `<rect x="-4" y="-4" width="32" height="32" rx="6" fill="#ffffff"/>` +
        `<path fill="#${icon.hex}" d="${escapeXml(icon.path)}"/></svg>`
      );
    }
  }
  return monogramSvg(connector.key, connector.name);
}

export function monogramSvg(key: string, name: string): string {
  const words = name.split(/[\s.-]+/).filter(Boolean);
  const initials = (words.length > 1 ? words[0]![0]! + words[1]![0]! : name.slice(0, 2)).toUpperCase();
  const hue = createHash('sha256').update(key).digest().readUInt16BE(0) % 360;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" role="img" aria-label="${escapeXml(name)}">` +
    `<rect width="32" height="32" rx="6" fill="hsl(${hue} 55% 42%)"/>` +
    `<text x="16" y="21" text-anchor="middle" font-family="system-ui, sans-serif" font-size="13" font-weight="600" fill="#ffffff">${escapeXml(initials)}</text></svg>`
  );
}
