// Every sandbox by name: one line each. `npm start` starts them all; `npm run sandbox -- NAME` starts one.
import type { SandboxDefinition } from './common/server.ts';
import { gpEmisSandbox } from './gp-emis/index.ts';
import { gpTppSandbox } from './gp-tpp/index.ts';
import { gpVisionSandbox } from './gp-vision/index.ts';
import { gpMicrotestSandbox } from './gp-microtest/index.ts';
import { pdsSandbox } from './pds/sandbox.ts';
import { organDonationSandbox } from './organ-donation/sandbox.ts';
import { contactPreferencesSandbox } from './contact-preferences/sandbox.ts';
import { webConsultationSandbox } from './web-consultation/sandbox.ts';

export const sandboxes: SandboxDefinition[] = [
  gpEmisSandbox,
  gpTppSandbox,
  gpVisionSandbox,
  gpMicrotestSandbox,
  pdsSandbox,
  organDonationSandbox,
  contactPreferencesSandbox,
  webConsultationSandbox,
];
