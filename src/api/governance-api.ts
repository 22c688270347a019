// The public governance API: the decision register and the scoring model as JSON, schemas first (TypeBox).
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { AuditLog } from '../audit/audit.ts';
import { decisionRegister } from '../governance/decision-register.ts';
import { loadScoringModel, MAX_POINTS, NATIONAL_AVERAGE_LIST_SIZE, POPULATION_ASSUMPTION } from '../governance/scoring.ts';
import { governanceDeps } from '../governance/governance-deps.ts';
import type { Store } from '../store/store.ts';

const Criterion = Type.Object({
  criterion: Type.String(),
  name: Type.String(),
  description: Type.String(),
  weight: Type.Integer({ description: 'Multiplies the criterion\'s points in the score' }),
  method: Type.Union([Type.Literal('computed'), Type.Literal('assessed')], { description: 'computed: from recorded evidence by the rule; assessed: scored by the national app team' }),
  rule: Type.String({ description: 'How the points are given' }),
});

export const ScoringModelResponse = Type.Object({
  maxPoints: Type.Integer({ description: 'Each criterion is scored 0 to this many points before weighting' }),
  score: Type.String(),
  nationalAverageListSize: Type.Integer(),
  populationAssumption: Type.String(),
  criteria: Type.Array(Criterion),
});

const Coverage = Type.Object({ icbCode: Type.String(), practices: Type.Integer(), population: Type.Integer(), basis: Type.Union([Type.Literal('stated'), Type.Literal('estimated')]) });

const Decision = Type.Object({
  decisionId: Type.String(),
  proposalId: Type.String(),
  title: Type.String(),
  summary: Type.String(),
  serviceType: Type.String(),
  supplier: Type.String(),
  regionCode: Type.String(),
  regionName: Type.String(),
  outcome: Type.Union([Type.Literal('approve'), Type.Literal('defer'), Type.Literal('reject')]),
  rationale: Type.String(),
  decidedAt: Type.String({ format: 'date-time' }),
  round: Type.String({ description: 'The prioritisation round (calendar quarter) it was decided in, e.g. 2026-Q4' }),
  score: Type.Number({ minimum: 0, maximum: 100 }),
  breakdown: Type.Array(Type.Object({ criterion: Type.String(), name: Type.String(), weight: Type.Integer(), points: Type.Union([Type.Integer(), Type.Null()]), maxPoints: Type.Integer(), weighted: Type.Integer() })),
  feedbackConsidered: Type.Integer({ description: 'Published public responses on this proposal and on the criteria when it was decided' }),
  evidence: Type.Object({
    userNeed: Type.Object({ statement: Type.String(), source: Type.String() }),
    citizenFacing: Type.Boolean(),
    strategicPriorities: Type.Array(Type.String()),
    providerSupport: Type.Object({ providers: Type.Integer(), processChange: Type.Boolean() }),
    commissionerSupport: Type.Object({ icbs: Type.Array(Coverage), practices: Type.Integer(), population: Type.Integer(), assumption: Type.String() }),
    addedValue: Type.String(),
  }),
});

export const DecisionsResponse = Type.Object({ decisions: Type.Array(Decision) });

export const governanceApi: FastifyPluginAsync<{ db: Store; audit: AuditLog }> = async (app, opts) => {
  app.get('/scoring-model', {
    config: { rateLimit: { max: 600, timeWindow: '1 minute' } },
    schema: { summary: 'The published scoring model: each criterion with its weight, description and rule', tags: ['governance'], response: { 200: ScoringModelResponse } },
  }, async (): Promise<Static<typeof ScoringModelResponse>> => {
    const criteria = await loadScoringModel(opts.db);
    return {
      maxPoints: MAX_POINTS,
      score: 'Sum of weight × points over every criterion, as a percentage of the most a proposal could score',
      nationalAverageListSize: NATIONAL_AVERAGE_LIST_SIZE,
      populationAssumption: POPULATION_ASSUMPTION,
      criteria: criteria.map(({ criterion, name, description, weight, method, rule }) => ({ criterion, name, description, weight, method, rule })),
    };
  });

  app.get('/decisions', {
    config: { rateLimit: { max: 600, timeWindow: '1 minute' } },
    schema: { summary: 'The decision register: every integration decision, its rationale, score and evidence summary', tags: ['governance'], response: { 200: DecisionsResponse } },
  }, async (): Promise<Static<typeof DecisionsResponse>> => {
    const entries = await decisionRegister(await governanceDeps(opts.db, opts.audit));
    return { decisions: entries.map((e) => ({ ...e, decidedAt: e.decidedAt.toISOString() })) };
  });
};
