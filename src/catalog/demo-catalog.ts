// The demo catalog, from the seed document: national services for everyone, GP services for every practice
// through its own GP system, and local online consultation and PHR services commissioned in different ICBs.
import type { Store } from '../store/store.ts';
import { addCommissioning, listCommissioning, upsertService, type CatalogService } from './catalog.ts';

export const GP_SYSTEMS = [
  { id: 'emis', supplier: 'EMIS (simulated)' },
  { id: 'tpp', supplier: 'TPP (simulated)' },
  { id: 'vision', supplier: 'Vision (simulated)' },
  { id: 'microtest', supplier: 'Microtest (simulated)' },
] as const;

const national: CatalogService[] = [
  { id: 'nhs-111-online', name: 'NHS 111 online', description: 'Get help for a symptom: answer questions and find out where to get medical help.', kind: 'national', type: 'national', supplier: 'NHS England', integrationMethod: 'web', minIdentityLevel: 'P0', status: 'live', category: 'national', webUrl: 'https://111.nhs.uk/', sortOrder: 10 },
  { id: 'organ-donation', name: 'Organ donation decision', description: 'Register, change or withdraw your organ donation decision on the NHS Organ Donor Register.', kind: 'national', type: 'national', supplier: 'NHS Blood and Transplant', integrationMethod: 'native', minIdentityLevel: 'P5', status: 'live', category: 'national', sortOrder: 20 },
  { id: 'national-record', name: 'Your details on the national record', description: 'See and update your address, phone number and email on the NHS national record (the Spine).', kind: 'national', type: 'national', supplier: 'NHS England (Personal Demographics Service)', integrationMethod: 'native', minIdentityLevel: 'P9', status: 'live', category: 'national', sortOrder: 30 },
  { id: 'contact-preferences', name: 'Contact preferences and data opt-out', description: 'Choose how the NHS contacts you, and whether your data is used for research and planning.', kind: 'national', type: 'national', supplier: 'NHS England', integrationMethod: 'native', minIdentityLevel: 'P5', status: 'live', category: 'national', sortOrder: 40 },
];

const gpServices: CatalogService[] = GP_SYSTEMS.map((g) => ({
  id: `gp-services-${g.id}`,
  name: 'GP services',
  description: 'Book and cancel GP appointments, order repeat prescriptions and read your GP health record.',
  kind: 'local',
  type: 'gp-system',
  supplier: g.supplier,
  integrationMethod: 'native',
  minIdentityLevel: 'P9',
  status: 'live',
  category: 'gp',
  gpSystem: g.id,
  sortOrder: 1,
}));

const localServices: CatalogService[] = [
  { id: 'consult-online-askdoc', name: 'Ask your GP surgery online', description: 'Tell your GP surgery about a health problem by answering questions online; the surgery triages it and replies.', kind: 'local', type: 'online-consultation', supplier: 'AskDoc Online (demo supplier)', integrationMethod: 'native', minIdentityLevel: 'P5', status: 'live', category: 'consultations', sortOrder: 50 },
  { id: 'consult-online-triagepoint', name: 'Online consultation with TriagePoint', description: 'Ask for help with a medical or admin request; forms-based triage routes it to the right person at your surgery.', kind: 'local', type: 'online-consultation', supplier: 'TriagePoint (demo supplier)', integrationMethod: 'web', minIdentityLevel: 'P5', status: 'live', category: 'consultations', sortOrder: 51 },
  { id: 'phr-carebook', name: 'CareBook personal health record', description: 'See records from your hospital and other care services, and add your own readings, mood diary and photos.', kind: 'local', type: 'phr', supplier: 'CareBook (demo supplier)', integrationMethod: 'web', minIdentityLevel: 'P9', status: 'live', category: 'record', sortOrder: 60 },
];

export const DEMO_SERVICES: CatalogService[] = [...national, ...gpServices, ...localServices];

/** Seeds services and their commissioning once; later runs leave commissioning decisions alone. */
export async function seedDemoCatalog(db: Store, sites: { webConsultationUrl?: string } = {}): Promise<void> {
  for (const s of DEMO_SERVICES) {
    // TriagePoint's site is the web-consultation sandbox wherever it runs; CareBook has none, so it says so.
    await upsertService(db, s.id === 'consult-online-triagepoint' && sites.webConsultationUrl ? { ...s, webUrl: `${sites.webConsultationUrl.replace(/\/$/, '')}/` } : s);
  }
  if ((await listCommissioning(db)).length > 0) return;
  // GP IT Futures: every practice reaches its own GP system's services.
  for (const s of gpServices) await addCommissioning(db, { serviceId: s.id, icbCode: '*', createdBy: 'seed' });
  // North East and North Cumbria ICB commissions AskDoc for all its practices.
  await addCommissioning(db, { serviceId: 'consult-online-askdoc', icbCode: 'QHM', createdBy: 'seed' });
  // North Central London ICB commissions TriagePoint for two practices, from a start date.
  await addCommissioning(db, { serviceId: 'consult-online-triagepoint', icbCode: 'QMJ', practiceCodes: ['E83003', 'E83005'], startDate: '2025-01-01', createdBy: 'seed' });
  // Derby and Derbyshire ICB commissions the CareBook PHR for all its practices.
  await addCommissioning(db, { serviceId: 'phr-carebook', icbCode: 'QJ2', createdBy: 'seed' });
}
