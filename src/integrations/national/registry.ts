// The national agency adapters by agency: the composition root and the conformance kit pick one by name.
import type { SupplierPolicy } from '../resilience.ts';
import type { ContactPreferencesService } from './contact-preferences.ts';
import { createContactPreferencesService } from './contact-preferences-service/preferences-adapter.ts';
import type { DemographicsService } from './demographics.ts';
import type { OrganDonationService } from './organ-donation.ts';
import { createOrganDonationRegister } from './organ-donation-register/register-adapter.ts';
import { createPdsDemographics } from './pds/pds-demographics.ts';

export interface NationalAdapterOptions {
  baseUrl: string;
  policy: SupplierPolicy;
  /** Sent on every request (e.g. `X-Sandbox-Fault` from the conformance kit, or an API key header). */
  extraHeaders?: Record<string, string>;
}

export type NationalAdapterFactory<S> = (opts: NationalAdapterOptions) => S;

export const demographicsAdapters: Record<string, NationalAdapterFactory<DemographicsService>> = {
  pds: createPdsDemographics,
};

export const organDonationAdapters: Record<string, NationalAdapterFactory<OrganDonationService>> = {
  'organ-donation': createOrganDonationRegister,
};

export const contactPreferencesAdapters: Record<string, NationalAdapterFactory<ContactPreferencesService>> = {
  'contact-preferences': createContactPreferencesService,
};

/** The agency names the conformance kit and configuration use, one per adapter above. */
export const nationalSystems = ['pds', 'organ-donation', 'contact-preferences'] as const;
export type NationalSystem = (typeof nationalSystems)[number];

export const createDemographicsService: NationalAdapterFactory<DemographicsService> = createPdsDemographics;
export const createOrganDonationService: NationalAdapterFactory<OrganDonationService> = createOrganDonationRegister;
export { createContactPreferencesService };
