// The agreed service levels for live services and the supplier or agency connections behind them: data, not code,
// so a level can change without touching the checks. A connection may have its own levels; others take the default.
export interface ServiceLevel {
  /** Share of calls in the rolling window that must succeed (0..1). */
  minSuccessRate: number;
  /** The 99th percentile of call latency, in milliseconds, must not exceed this. */
  maxP99Ms: number;
}

export const DEFAULT_SERVICE_LEVEL: ServiceLevel = { minSuccessRate: 0.99, maxP99Ms: 1000 };

/** Per connection (the resilience policy's supplier name), where agreed differently from the default. */
export const SERVICE_LEVELS: Readonly<Record<string, ServiceLevel>> = {
  // The Spine's demographics service answers more slowly by agreement; its success level is the same.
  pds: { minSuccessRate: 0.99, maxP99Ms: 1500 },
};

export function serviceLevelFor(connection: string): ServiceLevel {
  return SERVICE_LEVELS[connection] ?? DEFAULT_SERVICE_LEVEL;
}
