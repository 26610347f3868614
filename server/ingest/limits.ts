/** Bounds on one report; a batch outside them is refused whole with INVALID_ARGUMENT. */
export const LIMITS = {
  agentIdMaxLength: 128,
  maxPointsPerBatch: 10_000,
  metricNameMaxLength: 128,
  maxLabelsPerPoint: 32,
  labelKeyMaxLength: 64,
  labelValueMaxLength: 256,
  maxFutureMs: 5 * 60_000,
  /** Check events (check_events) per report, and the bounds of one. */
  maxCheckEventsPerReport: 1_000,
  checkNameMaxLength: 128,
  checkTypeMaxLength: 32,
  reasonCodeMaxLength: 32,
  /** reason_message and detail. */
  checkTextMaxLength: 1_024,
  maxTracerouteHops: 64,
  maxTracerouteTtl: 255,
  maxRttsPerHop: 16,
  hopAddressMaxLength: 255,
  /** Largest encoded report accepted over gRPC or HTTP. */
  maxReportBytes: 4 * 1024 * 1024,
} as const;
