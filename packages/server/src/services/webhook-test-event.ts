import { sql } from 'kysely';
import { generateId } from '../crypto/tokens.ts';
import { conflict, notFound } from '../errors.ts';
import { OUTBOX_CHANNEL } from '../webhooks/events.ts';
import { audit } from './audit.ts';
import type { ProjectContext } from './tenancy.ts';
import type { WebhookDeps } from './webhook-endpoints.ts';

/** The event type of test deliveries; receivers can recognise and ignore it. */
export const TEST_EVENT_TYPE = 'webhook.test';

/**
 * Queues a `webhook.test` event for one endpoint only, whatever its event filter, so an operator can
 * check the receiver and its signature verification without causing a real change.
 */
export async function sendTestEvent(
  deps: Pick<WebhookDeps, 'db'>,
  project: ProjectContext,
  endpointId: string,
) {
  return deps.db.transaction().execute(async (tx) => {
    const endpoint = await tx
      .selectFrom('webhook_endpoints')
      .select(['id', 'enabled'])
      .where('id', '=', endpointId)
      .where('project_id', '=', project.projectId)
      .executeTakeFirst();
    if (!endpoint) throw notFound(`Webhook endpoint ${endpointId}`);
    if (!endpoint.enabled)
      throw conflict(`Webhook endpoint ${endpointId} is disabled; enable it to send a test event.`);
    const eventId = generateId('evt_');
    const payload = {
      id: eventId,
      project_id: project.projectId,
      event: TEST_EVENT_TYPE,
      event_date: new Date().toISOString(),
      record_type: 'webhook_endpoint',
      record_id: endpointId,
      message: 'A test event sent from Plugboard. Nothing changed.',
    };
    await tx
      .insertInto('webhook_events')
      .values({
        id: eventId,
        project_id: project.projectId,
        type: TEST_EVENT_TYPE,
        payload: JSON.stringify(payload),
      })
      .execute();
    const deliveryId = generateId('whd_');
    await tx
      .insertInto('webhook_deliveries')
      .values({ id: deliveryId, event_id: eventId, endpoint_id: endpointId })
      .execute();
    await sql`select pg_notify(${OUTBOX_CHANNEL}, '')`.execute(tx);
    await audit(tx, project, {
      action: 'webhook_endpoint.test_sent',
      targetType: 'webhook_endpoint',
      targetId: endpointId,
      after: { event_id: eventId, delivery_id: deliveryId },
    });
    return { event_id: eventId, delivery_id: deliveryId };
  });
}
