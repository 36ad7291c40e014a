import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from './support/backends.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';

/** The hosted page passes ?return_url= on to the hub only when it leads somewhere the session trusts. */
for (const backend of backends()) {
  describe(`hosted page return_url (${backend})`, () => {
    let server: TestServer;
    let key: string;
    let token: string;

    before(async () => {
      server = await startTestServer(backend, {
        LOG_LEVEL: 'silent',
        PLUGBOARD_HUB_ALLOWED_ORIGINS: 'https://embedder.example',
      });
      key = (await server.newProject()).api_key;
      token = (
        await call(server, 'POST', '/connect_sessions', {
          key,
          body: {
            origin_owner_id: 'return-1',
            origin_owner_name: 'Return Co',
            allowed_origins: ['https://app.acme-saas.example'],
          },
        })
      ).body.token;
    });
    after(() => server.close());

    const returnAttribute = async (returnUrl: string, withToken = token) => {
      const query = new URLSearchParams({ token: withToken, return_url: returnUrl });
      const res = await fetch(`${server.url}/embedded/integrations?${query}`);
      assert.equal(res.status, 200);
      const html = await res.text();
      assert.match(html, /<plugboard-hub /);
      return /return-url="([^"]*)"/.exec(html)?.[1];
    };

    test("Plugboard's own origin, the session's allowed origins and the configured hub origins", async () => {
      assert.equal(await returnAttribute(`${server.url}/done`), `${server.url}/done`);
      assert.equal(
        await returnAttribute('https://app.acme-saas.example/settings?tab=integrations&x=1'),
        'https://app.acme-saas.example/settings?tab=integrations&amp;x=1',
      );
      assert.equal(await returnAttribute('https://embedder.example/back'), 'https://embedder.example/back');
    });

    test('anything else is dropped: other sites, look-alikes, other schemes, credentials in the URL', async () => {
      for (const refused of [
        'https://evil.example/',
        'https://app.acme-saas.example.evil.example/',
        'https://app.acme-saas.example@evil.example/',
        'https://user:secret@app.acme-saas.example/',
        'http://app.acme-saas.example/',
        'javascript:alert(document.domain)',
        '//evil.example/',
        '/relative/path',
      ])
        assert.equal(await returnAttribute(refused), undefined, refused);
    });

    test('an unknown or revoked token gets no return URL', async () => {
      assert.equal(await returnAttribute('https://app.acme-saas.example/', 'pbcs_unknown'), undefined);
      const other = await call(server, 'POST', '/connect_sessions', {
        key,
        body: {
          origin_owner_id: 'return-2',
          origin_owner_name: 'Return Co',
          allowed_origins: ['https://app.acme-saas.example'],
        },
      });
      assert.equal(
        await returnAttribute('https://app.acme-saas.example/', other.body.token),
        'https://app.acme-saas.example/',
      );
      assert.equal((await call(server, 'DELETE', `/connect_sessions/${other.body.id}`, { key })).status, 204);
      assert.equal(await returnAttribute('https://app.acme-saas.example/', other.body.token), undefined);
    });
  });
}
