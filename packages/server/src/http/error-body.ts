/** The one error body shape of the wire protocol: { statusCode, message, timestamp } plus extras. */
export function errorBody(statusCode: number, message: string, extra: Record<string, unknown> = {}) {
  return { statusCode, message, timestamp: new Date().toISOString(), ...extra };
}
