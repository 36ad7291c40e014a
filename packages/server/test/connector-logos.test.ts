import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { loadCatalogue } from '../src/connectors/catalogue.ts';
import {
  brandIcon,
  connectorLogoSvg,
  initialsOf,
  MONOGRAM_COLOURS,
  monogramSvg,
} from '../src/connectors/logos.ts';
import { registerErrorHandling } from '../src/http/error-handler.ts';
import { connectorLogoRoutes } from '../src/routes/connector-logos.ts';

// Connector logos: the SVG each connector gets (brand mark or monogram) and the route that serves it.
// The catalogue files themselves are checked in connectors.test.ts.

const catalogue = loadCatalogue();
const connectors = catalogue.list();

/** simple-icons removed these brands (trademark requests): their connectors must use a monogram. */
const REMOVED_BRANDS = ['slack', 'salesforce', 'microsoft', 'microsoftteams', 'linkedin'];

/** A small well-formedness check: one root <svg>, balanced tags, quoted attributes, known entities, nothing active. */
function assertWellFormedSvg(svg: string, where: string): void {
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>/, `${where}: root element`);
  assert.ok(svg.endsWith('</svg>'), `${where}: ends with </svg>`);
  assert.doesNotMatch(
    svg,
    /<script|<foreignObject|\son\w+=|href=|url\(/i,
    `${where}: nothing active or remote`,
  );
  const stack: string[] = [];
  const token = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let consumed = 0;
  for (let match = token.exec(svg); match; match = token.exec(svg)) {
    consumed = token.lastIndex;
    const [, closing, name, , selfClosing, text] = match;
    const content = text ?? match[3] ?? '';
    for (const entity of content.match(/&[^;\s]*;?/g) ?? []) {
      assert.match(entity, /^&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-f]+);$/i, `${where}: entity ${entity}`);
    }
    if (text !== undefined) continue;
    if (closing) assert.equal(stack.pop(), name, `${where}: </${name}> closes the open element`);
    else if (!selfClosing) stack.push(name!);
    if (stack.length === 0) assert.equal(consumed, svg.length, `${where}: a single root element`);
  }
  assert.equal(consumed, svg.length, `${where}: malformed near ${svg.slice(consumed, consumed + 40)}`);
  assert.deepEqual(stack, [], `${where}: every element is closed`);
}

describe('connector logos', () => {
  const require = createRequire(import.meta.url);
  const icons = require('simple-icons/icons.json') as { slug: string; hex: string }[];
  const slugs = new Set(icons.map((i) => i.slug));

  test('every connector gets a well-formed SVG: a brand mark when it names one, a monogram otherwise', () => {
    let brands = 0;
    for (const c of connectors) {
      const svg = connectorLogoSvg(c);
      assertWellFormedSvg(svg, c.key);
      assert.ok(svg.includes(`<title>${c.name.replace('&', '&amp;')}</title>`), `${c.key}: titled`);
      if (c.logo?.simple_icon) {
        brands++;
        const hex = icons.find((i) => i.slug === c.logo?.simple_icon)!.hex;
        assert.ok(svg.includes(`fill="#${hex.toUpperCase()}"`), `${c.key}: brand colour`);
        assert.match(svg, /<path [^>]*d="[Mm][^"]+"/, `${c.key}: brand mark`);
        assert.doesNotMatch(svg, /<text/, `${c.key}: not a monogram`);
      } else {
        assert.match(svg, /<text [^>]*>[^<]{1,2}<\/text>/u, `${c.key}: monogram`);
      }
    }
    assert.ok(brands >= 15, `only ${brands} brand logos`);
  });

  test('declared simple-icons slugs exist in the installed package; removed brands use monograms', () => {
    for (const c of connectors) {
      const slug = c.logo?.simple_icon;
      if (slug) assert.ok(slugs.has(slug) && brandIcon(slug), `${c.key}: simple-icons has no "${slug}"`);
    }
    for (const slug of REMOVED_BRANDS) assert.ok(!slugs.has(slug), `simple-icons has ${slug} again`);
    for (const key of ['slack', 'salesforce', 'microsoftteams']) {
      assert.equal(catalogue.get(key)!.logo?.simple_icon, undefined, key);
    }
  });

  test('an unknown slug falls back to the monogram', () => {
    const svg = connectorLogoSvg({
      key: 'gone',
      name: 'Gone Brand',
      logo: { simple_icon: 'nosuchbrandever' },
    });
    assert.equal(svg, monogramSvg('gone', 'Gone Brand'));
    assert.equal(brandIcon('../package'), null, 'slugs cannot walk the file system');
  });

  test('monograms: escaped text, initials, a colour fixed by the key and readable on white', () => {
    const hostile = monogramSvg('x', `<script>alert("&")</script>`);
    assertWellFormedSvg(hostile, 'hostile');
    assert.ok(!hostile.includes('<script>'));
    assert.ok(hostile.includes('<title>&lt;script&gt;alert(&quot;&amp;&quot;)&lt;/script&gt;</title>'));
    assertWellFormedSvg(monogramSvg('y', `A & B's "Co"`), 'ampersand');
    assert.equal(initialsOf('Microsoft Teams'), 'MT');
    assert.equal(initialsOf('BambooHR'), 'BH');
    assert.equal(initialsOf('Lever'), 'L');
    assert.equal(initialsOf('zoho crm'), 'ZC');
    assert.equal(initialsOf('Émile'), 'É');
    assert.equal(initialsOf('😀 Smile'), '😀S');
    assert.equal(monogramSvg('lever', 'Lever'), monogramSvg('lever', 'Lever'), 'deterministic');
    const fills = new Set(
      connectors.map((c) => /<rect [^>]*fill="(#[0-9A-F]{6})"/.exec(monogramSvg(c.key, c.name))?.[1]),
    );
    assert.ok(fills.size >= 6, `keys spread over the palette (${fills.size} colours)`);
    const channel = (v: number) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    for (const colour of MONOGRAM_COLOURS) {
      const [r, g, b] = [1, 3, 5].map((i) => channel(Number.parseInt(colour.slice(i, i + 2), 16) / 255));
      const contrast = 1.05 / (0.2126 * r! + 0.7152 * g! + 0.0722 * b! + 0.05);
      assert.ok(contrast >= 4.5, `${colour} on white: ${contrast.toFixed(2)}`);
    }
  });
});

describe('GET /connectors/logos/:file', () => {
  let app: FastifyInstance;
  let base: string;
  before(async () => {
    app = Fastify();
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    registerErrorHandling(app);
    await app.register(connectorLogoRoutes, { catalogue });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  after(() => app.close());

  test('serves the SVG publicly, cacheable and sandboxed', async () => {
    for (const key of ['hubspot', 'bamboohr']) {
      const res = await fetch(`${base}/connectors/logos/${key}.svg`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^image\/svg\+xml/);
      assert.match(res.headers.get('cache-control') ?? '', /public, max-age=\d{5,}/);
      assert.equal(
        res.headers.get('content-security-policy'),
        "default-src 'none'; style-src 'unsafe-inline'",
      );
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(await res.text(), connectorLogoSvg(catalogue.get(key)!));
    }
  });

  test('answers a matching If-None-Match with 304', async () => {
    const first = await fetch(`${base}/connectors/logos/okta.svg`);
    const etag = first.headers.get('etag');
    assert.ok(etag);
    const again = await fetch(`${base}/connectors/logos/okta.svg`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal(await again.text(), '');
  });

  test('unknown keys and other file names get 404 in the wire error shape', async () => {
    for (const file of [
      'nope.svg',
      'bamboohr.png',
      'bamboohr',
      'BambooHR.svg',
      '..%2Fpackage.json',
      `${'a'.repeat(90)}.svg`,
    ]) {
      const res = await fetch(`${base}/connectors/logos/${file}`);
      assert.equal(res.status, 404, file);
      const body = (await res.json()) as Record<string, unknown>;
      assert.equal(body.statusCode, 404);
      assert.equal(typeof body.message, 'string');
      assert.ok(!Number.isNaN(Date.parse(body.timestamp as string)), 'timestamp');
    }
  });
});
