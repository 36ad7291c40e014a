import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadCatalogue } from '../src/connectors/catalogue.ts';
import { DomainError } from '../src/errors.ts';
import { providerPolicy } from '../src/outbound/address-policy.ts';
import { createOutboundClient } from '../src/outbound/http-client.ts';
import { checkCredentials } from '../src/services/credential-check.ts';
import { type FakeProvider, startFakeProvider } from './support/fake-provider.ts';

/** Connector checks that need more than a status code: a POST body (GraphQL) or a body to inspect. */
describe('credential checks', () => {
  const catalogue = loadCatalogue();
  // The fake provider listens on 127.0.0.1, which the guard refuses unless loopback is opened.
  const outbound = createOutboundClient({ policy: providerPolicy(['loopback']), timeoutMs: 2000 });
  let provider: FakeProvider;
  let slackAnswer: { ok: boolean; error?: string } = { ok: true };

  before(async () => {
    provider = await startFakeProvider((req) => {
      if (req.url === '/graphql') return { status: 200, body: { data: { viewer: { id: 'u1' } } } };
      return { status: 200, body: slackAnswer };
    });
    provider.requests.length = 0;
  });
  after(async () => {
    await provider.close();
    await outbound.close();
  });

  test('refuses a provider on loopback unless the operator opened it, sending nothing', async () => {
    const closed = createOutboundClient({ policy: providerPolicy([]), timeoutMs: 2000 });
    const linear = catalogue.get('linear')!;
    const before = provider.requests.length;
    await assert.rejects(
      checkCredentials(linear, linear.auth[0]!, { api_base_url: provider.url }, { api_key: 'x' }, closed),
      (err: unknown) =>
        err instanceof DomainError &&
        err.code === 'unprocessable' &&
        /loopback range.*PLUGBOARD_PROVIDER_ALLOWED_RANGES=loopback/.test(err.message),
    );
    assert.equal(provider.requests.length, before);
    await closed.close();
  });

  test('a POST check sends its JSON body (Linear GraphQL)', async () => {
    const linear = catalogue.get('linear')!;
    await checkCredentials(
      linear,
      linear.auth[0]!,
      { api_base_url: provider.url },
      { api_key: 'lin_api_x' },
      outbound,
    );
    const request = provider.requests.at(-1)!;
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/graphql');
    assert.equal(request.headers['content-type'], 'application/json');
  });

  test('expect_json turns a 200 that says "not ok" into a rejection (Slack)', async () => {
    const slack = catalogue.get('slack')!;
    const method = slack.auth[0]!;
    await checkCredentials(
      slack,
      method,
      { api_base_url: provider.url },
      { access_token: 'xoxb-good' },
      outbound,
    );
    slackAnswer = { ok: false, error: 'invalid_auth' };
    await assert.rejects(
      checkCredentials(slack, method, { api_base_url: provider.url }, { access_token: 'xoxb-bad' }, outbound),
      (err: unknown) =>
        err instanceof DomainError &&
        err.code === 'validation_failed' &&
        /invalid_auth/.test(err.details.provider_response ?? ''),
    );
  });
});
