// The public decision register: every decision with its rationale, the score as it stood, the evidence summarised
// (no personal data: organisations and counts only), and how many public responses were considered.
import { allProposals, strategicPriorities, type DecisionOutcome } from './proposals.ts';
import { POPULATION_ASSUMPTION, type IcbCoverage, type ScoreLine } from './scoring.ts';
import type { GovernanceDeps } from './suppliers.ts';

export interface RegisterEntry {
  decisionId: string;
  proposalId: string;
  title: string;
  summary: string;
  serviceType: string;
  serviceTypeName: string;
  supplier: string;
  regionCode: string;
  regionName: string;
  outcome: DecisionOutcome;
  rationale: string;
  decidedAt: Date;
  /** The prioritisation round (quarter) it was decided in. */
  round: string;
  score: number;
  breakdown: Pick<ScoreLine, 'criterion' | 'name' | 'weight' | 'points' | 'maxPoints' | 'weighted'>[];
  feedbackConsidered: number;
  evidence: {
    userNeed: { statement: string; source: string };
    citizenFacing: boolean;
    strategicPriorities: string[];
    providerSupport: { providers: number; processChange: boolean };
    commissionerSupport: { icbs: IcbCoverage[]; practices: number; population: number; assumption: string };
    addedValue: string;
  };
}

export async function decisionRegister(deps: GovernanceDeps): Promise<RegisterEntry[]> {
  const [proposals, priorities] = await Promise.all([allProposals(deps), strategicPriorities(deps.db)]);
  const priorityName = (code: string) => priorities.find((p) => p.code === code)?.name ?? code;
  const entries = proposals.flatMap((p) => p.decisions.map((d): RegisterEntry => ({
    decisionId: d.id, proposalId: p.id, title: p.title, summary: p.summary, serviceType: p.serviceType, serviceTypeName: p.serviceTypeName,
    supplier: p.supplierName, regionCode: p.regionCode, regionName: p.regionName,
    outcome: d.outcome, rationale: d.rationale, decidedAt: d.decidedAt, round: d.round, score: d.score,
    breakdown: d.breakdown.lines.map((l) => ({ criterion: l.criterion, name: l.name, weight: l.weight, points: l.points, maxPoints: l.maxPoints, weighted: l.weighted })),
    feedbackConsidered: d.feedbackConsidered,
    evidence: {
      userNeed: { statement: p.evidence['user-need'].statement, source: p.evidence['user-need'].source },
      citizenFacing: p.evidence['citizen-facing'].citizenFacing,
      strategicPriorities: p.evidence['strategic-priority'].priorities.map(priorityName),
      providerSupport: { providers: p.support.filter((s) => s.kind === 'provider').length, processChange: p.evidence['provider-support'].processChange },
      commissionerSupport: { ...p.coverage, assumption: POPULATION_ASSUMPTION },
      addedValue: p.evidence['added-value'].statement,
    },
  })));
  return entries.sort((a, b) => b.decidedAt.getTime() - a.decidedAt.getTime() || Number(b.decisionId) - Number(a.decisionId));
}

/** Open proposals the public may comment on: titles and summaries only. */
export async function openProposals(deps: GovernanceDeps): Promise<{ id: string; title: string; summary: string; regionName: string; serviceTypeName: string; supplier: string }[]> {
  return (await allProposals(deps))
    .filter((p) => p.status === 'open' || p.status === 'deferred')
    .map((p) => ({ id: p.id, title: p.title, summary: p.summary, regionName: p.regionName, serviceTypeName: p.serviceTypeName, supplier: p.supplierName }));
}

