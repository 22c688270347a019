// The NHS England regions (and the other region codes ODS uses) with their names, and which of them are England.

/** Current NHS England regions. */
export const ENGLAND_REGIONS: Readonly<Record<string, string>> = {
  Y56: 'London',
  Y58: 'South West',
  Y59: 'South East',
  Y60: 'Midlands',
  Y61: 'East of England',
  Y62: 'North West',
  Y63: 'North East and Yorkshire',
};

/** Region codes older extracts carry (2013 to 2018 regions); rows normally resolve past them to a current region. */
export const FORMER_ENGLAND_REGIONS: Readonly<Record<string, string>> = {
  Y54: 'North of England (former region)',
  Y55: 'Midlands and East of England (former region)',
  Y57: 'South of England (former region)',
};

/** Codes ODS puts in the region column that are not NHS England regions. */
export const OTHER_REGIONS: Readonly<Record<string, string>> = {
  W00: 'Wales (not England)',
  Y99: 'Non-geographic national commissioning (not an NHS England region)',
};

export const REGION_NAMES: Readonly<Record<string, string>> = { ...ENGLAND_REGIONS, ...FORMER_ENGLAND_REGIONS, ...OTHER_REGIONS };

/** A practice's own region column is trusted over the hierarchy when it holds one of these current codes. */
export function isCurrentRegion(code: string): boolean {
  return code in ENGLAND_REGIONS || code in OTHER_REGIONS;
}

export function isEnglandRegion(code: string | null | undefined): boolean {
  return !!code && (code in ENGLAND_REGIONS || code in FORMER_ENGLAND_REGIONS);
}
