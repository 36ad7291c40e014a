/**
 * The process's own view of whether it should still get traffic. Set to draining on SIGTERM: readiness
 * answers 503 so load balancers move new requests elsewhere, while requests already here finish.
 */
export interface Lifecycle {
  draining: boolean;
}

export const createLifecycle = (): Lifecycle => ({ draining: false });
