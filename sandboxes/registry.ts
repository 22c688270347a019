// Every sandbox by name: one line each. `npm start` starts them all; `npm run sandbox -- NAME` starts one.
import type { SandboxDefinition } from './common/server.ts';

export const sandboxes: SandboxDefinition[] = [
];
