// The triage questionnaire the web-consultation sandbox asks: the published GAD-7 FHIR Questionnaire (anxiety),
// read once from the shared reference data, turned into one question per page, and scored to route the request.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const questionnairesDir = process.env.FRONT_DOOR_QUESTIONNAIRES_DIR ?? path.resolve(here, '../../../shared/data/questionnaires');
const GAD7_FILE = 'researchkitonfhir-GAD-7.json';

export interface AnswerOption { code: string; display: string; score: number }

/** One page of the flow: the supplier's own free-text question first, then one GAD-7 item each. */
export type Question =
  | { linkId: string; kind: 'text'; text: string; hint: string; required: true }
  | { linkId: string; kind: 'choice'; text: string; hint: string; required: boolean; options: AnswerOption[] };

export interface Triage { score: number; band: 'minimal' | 'mild' | 'moderate' | 'severe'; outcome: string }

interface FhirItem { linkId: string; type: string; text?: string; required?: boolean; answerValueSet?: string; item?: FhirItem[] }
interface FhirConcept { code: string; display: string; extension?: { url: string; valueDecimal?: number }[] }
interface FhirQuestionnaire { title?: string; item: FhirItem[]; contained?: { resourceType: string; id: string; compose?: { include: { concept?: FhirConcept[] }[] } }[] }

const ORDINAL = 'http://hl7.org/fhir/StructureDefinition/ordinalValue';

/** The description question is ours (an online consultation always asks what the problem is); the rest is GAD-7 as published. */
export const DESCRIPTION_ID = 'description';

export function loadQuestionnaire(file = path.join(questionnairesDir, GAD7_FILE)): { title: string; questions: Question[] } {
  const q = JSON.parse(readFileSync(file, 'utf8')) as FhirQuestionnaire;
  const valueSet = (ref: string): AnswerOption[] => {
    const vs = q.contained?.find((c) => c.resourceType === 'ValueSet' && `#${c.id}` === ref);
    const concepts = vs?.compose?.include.flatMap((i) => i.concept ?? []) ?? [];
    if (concepts.length === 0) throw new Error(`${path.basename(file)}: answer value set ${ref} is not contained or empty`);
    return concepts.map((c) => ({ code: c.code, display: c.display, score: c.extension?.find((e) => e.url === ORDINAL)?.valueDecimal ?? 0 }));
  };
  const questions: Question[] = [{
    linkId: DESCRIPTION_ID, kind: 'text', required: true,
    text: 'What would you like help with?',
    hint: 'Tell us what is worrying you and how long it has been going on. Do not include anything urgent.',
  }];
  const walk = (items: FhirItem[], groupText?: string) => {
    for (const item of items) {
      if (item.type === 'group') walk(item.item ?? [], item.text);
      else if (item.type === 'choice' && item.answerValueSet && item.text) {
        questions.push({ linkId: item.linkId, kind: 'choice', text: item.text, hint: groupText ?? '', required: item.required === true, options: valueSet(item.answerValueSet) });
      }
    }
  };
  walk(q.item);
  return { title: q.title ?? 'Questionnaire', questions };
}

/** GAD-7 bands (0–4 minimal, 5–9 mild, 10–14 moderate, 15–21 severe) decide how soon the surgery replies. */
export function triage(questions: Question[], answers: Record<string, string>): Triage {
  let score = 0;
  for (const q of questions) if (q.kind === 'choice') score += q.options.find((o) => o.code === answers[q.linkId])?.score ?? 0;
  if (score >= 15) return { score, band: 'severe', outcome: 'A clinician will call you today.' };
  if (score >= 10) return { score, band: 'moderate', outcome: 'A clinician will contact you within 2 working days.' };
  if (score >= 5) return { score, band: 'mild', outcome: 'Your surgery will reply within 3 working days.' };
  return { score, band: 'minimal', outcome: 'Your surgery will reply within 5 working days.' };
}
