// Every GP system by id: one line each. The practice's GP system (from the catalog) picks the factory.
import type { GpAdapterFactory } from './contract.ts';
import { createEmisAdapter } from './emis/emis-adapter.ts';
import { createTppAdapter } from './tpp/tpp-adapter.ts';
import { createVisionAdapter } from './vision/vision-adapter.ts';
import { createMicrotestAdapter } from './microtest/microtest-adapter.ts';

export type { GpAdapterFactory } from './contract.ts';

export const gpSystems: Record<string, GpAdapterFactory> = {
  emis: createEmisAdapter,
  tpp: createTppAdapter,
  vision: createVisionAdapter,
  microtest: createMicrotestAdapter,
};
