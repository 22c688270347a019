// The transparent scoring model: criteria and weights are rows in the store; this turns a proposal's evidence,
// recorded support and the national team's assessments into a 0 to 100 score with every line of the sum shown.
import type { PracticeDirectory } from '../reference/practice-directory.ts';
import type { Queryable } from '../store/store.ts';

export const CRITERIA = ['user-need', 'citizen-facing', 'strategic-priority', 'provider-support', 'commissioner-support', 'added-value'] as const;
export type CriterionCode = (typeof CRITERIA)[number];

/** Every criterion is scored 0 to this many points before weighting. */
export const MAX_POINTS = 3;
/** The stated national average registered list size, used when an ICB gives no registered-patient count. */
export const NATIONAL_AVERAGE_LIST_SIZE = 10_000;
export const POPULATION_ASSUMPTION = `Where an ICB gives no registered-patient count, population = its active GP practices × ${NATIONAL_AVERAGE_LIST_SIZE.toLocaleString('en-GB')} (the national average list size).`;

export interface Criterion {
  criterion: CriterionCode;
  name: string;
  description: string;
  weight: number;
  method: 'computed' | 'assessed';
  rule: string;
  sortOrder: number;
}

export async function loadScoringModel(db: Queryable): Promise<Criterion[]> {
  const rows = await db.query<{ criterion: CriterionCode; name: string; description: string; weight: number; method: 'computed' | 'assessed'; rule: string; sort_order: number }>(
    'SELECT * FROM scoring_model ORDER BY sort_order');
  return rows.map((r) => ({ criterion: r.criterion, name: r.name, description: r.description, weight: Number(r.weight), method: r.method, rule: r.rule, sortOrder: r.sort_order }));
}

export interface IcbCoverage {
  icbCode: string;
  /** Active GP practices in the ICB, from the ODS data. */
  practices: number;
  population: number;
  /** 'stated': the ICB's registered-patient count; 'estimated': practices × the national average list size. */
  basis: 'stated' | 'estimated';
}

export function icbCoverage(directory: PracticeDirectory, icbCode: string, registeredPatients?: number | null): IcbCoverage {
  const practices = directory.practicesInIcb(icbCode).filter((p) => p.status === 'A' && p.isGpPractice).length;
  return registeredPatients
    ? { icbCode, practices, population: registeredPatients, basis: 'stated' }
    : { icbCode, practices, population: practices * NATIONAL_AVERAGE_LIST_SIZE, basis: 'estimated' };
}

export interface ScoringInputs {
  citizenFacing: boolean;
  /** Providers that recorded support. */
  providerSupporters: number;
  /** Population covered by the ICBs that recorded support. */
  population: number;
  /** The national team's points on assessed criteria (missing: not yet assessed). */
  assessments: Partial<Record<CriterionCode, number>>;
}

export interface ScoreLine {
  criterion: CriterionCode;
  name: string;
  weight: number;
  method: 'computed' | 'assessed';
  /** null: an assessed criterion not yet scored (counts as 0). */
  points: number | null;
  maxPoints: number;
  /** weight × points. */
  weighted: number;
  basis: string;
}

export interface Score {
  /** Weighted points as a share of the most a proposal could get, 0 to 100, one decimal place. */
  score: number;
  weighted: number;
  maxWeighted: number;
  lines: ScoreLine[];
  /** Every assessed criterion has been scored. */
  complete: boolean;
}

export function providerPoints(supporters: number): number {
  return supporters <= 0 ? 0 : supporters === 1 ? 1 : supporters < 5 ? 2 : 3;
}

export function populationPoints(population: number): number {
  return population <= 0 ? 0 : population < 250_000 ? 1 : population < 1_000_000 ? 2 : 3;
}

export function scoreProposal(model: readonly Criterion[], inputs: ScoringInputs): Score {
  const lines = model.map((c): ScoreLine => {
    let points: number | null;
    let basis: string;
    switch (c.criterion) {
      case 'citizen-facing':
        points = inputs.citizenFacing ? MAX_POINTS : 0;
        basis = inputs.citizenFacing ? 'Citizen facing' : 'Not citizen facing';
        break;
      case 'provider-support':
        points = providerPoints(inputs.providerSupporters);
        basis = `${inputs.providerSupporters} provider${inputs.providerSupporters === 1 ? '' : 's'} recorded support`;
        break;
      case 'commissioner-support':
        points = populationPoints(inputs.population);
        basis = `${inputs.population.toLocaleString('en-GB')} people covered by supporting ICBs`;
        break;
      default: {
        const assessed = inputs.assessments[c.criterion];
        points = assessed === undefined ? null : assessed;
        basis = assessed === undefined ? 'Not yet assessed' : 'Assessed by the national app team';
      }
    }
    return { criterion: c.criterion, name: c.name, weight: c.weight, method: c.method, points, maxPoints: MAX_POINTS, weighted: c.weight * (points ?? 0), basis };
  });
  const weighted = lines.reduce((n, l) => n + l.weighted, 0);
  const maxWeighted = lines.reduce((n, l) => n + l.weight * MAX_POINTS, 0);
  return {
    score: maxWeighted ? Math.round((weighted / maxWeighted) * 1000) / 10 : 0,
    weighted,
    maxWeighted,
    lines,
    complete: lines.every((l) => l.points !== null),
  };
}
