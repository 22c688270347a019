// Citizen pages for GP services (appointments, repeat prescriptions, GP record) at whichever GP system the
// citizen's practice runs. Server-rendered, one question per page, check before every write, no JavaScript needed.
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteGenericInterface } from 'fastify';
import type { AppDeps } from '../../app.ts';
import { LinkageVault } from '../../gp/linkage-vault.ts';
import { GpNotOfferedError, GpServices, isFormToken, newFormToken, type GpPatient } from '../../gp/gp-services.ts';
import {
  GpDomainError,
  SlotUnavailableError,
  appointmentModes,
  recordSections,
  type AppointmentMode,
  type GpAppointment,
  type GpSlot,
  type RecordSection,
  type RepeatMedication,
  type RepeatRequest,
} from '../../integrations/gp/contract.ts';
import { SupplierUnavailableError } from '../../integrations/resilience.ts';
import { validatePharmacyCode } from '../../integrations/national/validation.ts';
import { FormErrors } from '../../views/form-errors.ts';
import { dateText, type Renderer } from '../../views/renderer.ts';

const DAY = 86_400_000;
const MAX_TEXT = 500;
const SLOTS_SHOWN = 30;
const RANGES = [7, 14, 28];

export const SECTION_TITLES: Record<RecordSection, string> = {
  allergies: 'Allergies and adverse reactions',
  medications: 'Medicines',
  problems: 'Health problems and conditions',
  immunisations: 'Vaccinations',
  'test-results': 'Test results',
  consultations: 'Consultations and events',
};

const MODE_NAMES: Record<AppointmentMode, string> = { 'in-person': 'In person', phone: 'By phone', video: 'By video' };

const LINK_PROBLEMS: Partial<Record<GpDomainError['code'], { title: string; message: string }>> = {
  'no-record': { title: 'We could not find your GP record', message: 'Your GP surgery does not have a record that matches your NHS login. Contact your GP surgery to check your registration.' },
  'not-matched': { title: 'We could not match your details with your GP record', message: 'The details on your NHS login (such as your date of birth) do not match the record at your GP surgery. Contact your GP surgery to check them.' },
  'online-services-disabled': { title: 'Online services are not turned on for you', message: 'Your GP surgery has not turned on online services for your record. Contact your GP surgery to ask for online access.' },
};

type Body = Record<string, string | string[] | undefined>;
const str = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');
const list = (v: unknown): string[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === 'string' && x !== '');

const when = (iso: string) =>
  new Date(iso).toLocaleString('en-GB', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', hour: 'numeric', minute: '2-digit', timeZone: 'Europe/London' });

/** UCUM units as people read them; a unit not listed is shown as the GP system sent it. Tight ones need no space. */
const UNIT_TEXT: Record<string, { text: string; tight?: boolean }> = {
  'mm[Hg]': { text: 'mmHg' }, '/min': { text: 'per minute' }, Cel: { text: '°C', tight: true }, '%': { text: '%', tight: true },
  'kg/m2': { text: 'kg/m²' }, '10*9/L': { text: '× 10⁹/L' }, '10*12/L': { text: '× 10¹²/L' },
};
const measured = (n: number, ucum: string): string => {
  const u = UNIT_TEXT[ucum] ?? { text: ucum };
  return u.text ? `${n}${u.tight ? '' : ' '}${u.text}` : String(n);
};
const rangeText = (r: { low?: number; high?: number } | undefined, ucum: string): string => {
  if (!r || (r.low === undefined && r.high === undefined)) return 'Not given';
  if (r.low === undefined) return `Up to ${measured(r.high!, ucum)}`;
  if (r.high === undefined) return `${measured(r.low, ucum)} or more`;
  return `${r.low} to ${measured(r.high, ucum)}`;
};

function slotView(s: GpSlot) {
  return { ...s, when: when(s.start), modeName: MODE_NAMES[s.mode] ?? s.mode };
}
/** Radio items for slots: the time, and how and with whom as the hint. */
function slotItems(slots: GpSlot[]) {
  return slots.map(slotView).map((s) => ({
    value: s.id, text: s.when, hint: { text: `${s.modeName} with ${s.clinician}${s.location && s.mode === 'in-person' ? `, ${s.location}` : ''}` },
  }));
}
function appointmentView(a: GpAppointment) {
  return { ...a, when: when(a.start), modeName: MODE_NAMES[a.mode] ?? a.mode };
}
function requestView(r: RepeatRequest) {
  return { ...r, requestedOn: dateText(r.requestedAt), changedOn: r.statusChangedAt ? dateText(r.statusChangedAt) : undefined };
}

/** A page section that may fail on its own: an unavailable supplier becomes `{ unavailable: true }`. */
async function section<T>(p: Promise<T>): Promise<{ value?: T; unavailable?: true }> {
  try {
    return { value: await p };
  } catch (err) {
    if (err instanceof SupplierUnavailableError) return { unavailable: true };
    throw err;
  }
}

export interface GpWebOptions {
  deps: AppDeps;
  renderer: Renderer;
  /** GP services to use (tests and benchmarks pass their own); made from `deps` otherwise. */
  services?: GpServices;
}

export async function gpWeb(app: FastifyInstance, opts: GpWebOptions): Promise<void> {
  const { deps, renderer } = opts;
  const services = opts.services ?? new GpServices({
    db: deps.db, catalog: deps.catalog, supplierUrls: deps.supplierUrls, policies: deps.policies,
    vault: await LinkageVault.open(deps.db, deps.config.linkageKeySecret),
  });
  if (!opts.services) app.addHook('onClose', async () => services.close());

  const page = (reply: FastifyReply, view: string, ctx: Record<string, unknown>, status = 200) =>
    reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(
      renderer.render(view, { cspNonce: reply.scriptNonce, nav: 'signedIn', ...ctx }),
    );
  const gp = (req: FastifyRequest, action: string): Promise<GpPatient> => services.forCitizen(req.ctx, action);
  const csrf = { preHandler: app.csrfProtection };

  /** GP failures become GP pages; anything else (sign-in, uplift, CSRF…) goes on to the citizen app's error handler. */
  const gpFailure = (err: unknown, reply: FastifyReply) => {
    if (err instanceof SupplierUnavailableError) {
      return page(reply, 'gp-problem.njk', { title: 'GP services are not available right now', unavailable: true, back: { href: '/' } }, 503);
    }
    if (err instanceof GpNotOfferedError) {
      return page(reply, 'gp-problem.njk', { title: 'GP services are not available for your GP surgery', message: 'Front Door cannot reach GP services for the GP surgery on your NHS login. You can still use the other services on the home page.', back: { href: '/' } }, 404);
    }
    if (err instanceof GpDomainError) {
      const linkProblem = LINK_PROBLEMS[err.code];
      if (linkProblem) return page(reply, 'gp-problem.njk', { ...linkProblem, back: { href: '/' } }, 403);
      if (err.code === 'not-found') return page(reply, 'not-found.njk', { title: 'Page not found' }, 404);
    }
    throw err;
  };
  const gpRoute = <G extends RouteGenericInterface = RouteGenericInterface>(h: (req: FastifyRequest<G>, reply: FastifyReply) => Promise<unknown>) =>
    async (req: FastifyRequest<G>, reply: FastifyReply) => {
      try {
        return await h(req, reply);
      } catch (err) {
        return gpFailure(err, reply);
      }
    };

  // --- appointments ----------------------------------------------------------------------------------
  app.get<{ Querystring: { cancelled?: string } }>('/gp/appointments', gpRoute<{ Querystring: { cancelled?: string } }>(async (req, reply) => {
    const p = await gp(req, 'view appointments');
    const appts = await section(p.listAppointments());
    return page(reply, 'gp-appointments.njk', {
      title: 'Your GP appointments', practice: p.practice, back: { href: '/' },
      unavailable: appts.unavailable,
      upcoming: appts.value?.upcoming.map(appointmentView) ?? [],
      past: appts.value?.past.map(appointmentView) ?? [],
    }, appts.unavailable ? 503 : 200);
  }));

  /** Appointment types on offer: those with free slots in the next four weeks. */
  const typesOnOffer = async (p: GpPatient) => {
    const slots = await p.searchSlots({ from: new Date().toISOString(), to: new Date(Date.now() + 28 * DAY).toISOString() });
    return [...new Set(slots.map((s) => s.appointmentType))].sort();
  };

  const renderTypes = async (reply: FastifyReply, p: GpPatient, errors?: FormErrors, chosen?: string) => {
    const types = await section(typesOnOffer(p));
    return page(reply, 'gp-choose-type.njk', {
      title: 'What type of appointment do you need?', back: { href: '/gp/appointments' }, practice: p.practice,
      unavailable: types.unavailable, types: types.value ?? [], typeItems: (types.value ?? []).map((t) => ({ value: t, text: t, checked: t === chosen })), csrfToken: reply.generateCsrf(), ...errors?.toView(),
    }, errors?.any ? 400 : types.unavailable ? 503 : 200);
  };

  app.get('/gp/appointments/book', gpRoute(async (req, reply) => renderTypes(reply, await gp(req, 'book appointment'))));

  app.post<{ Body: Body }>('/gp/appointments/book', csrf, gpRoute<{ Body: Body }>(async (req, reply) => {
    const p = await gp(req, 'book appointment');
    const type = str(req.body?.type);
    const errors = new FormErrors();
    if (!type) errors.add('type', 'Select the type of appointment you need');
    else if (!(await typesOnOffer(p)).includes(type)) errors.add('type', 'Select a type of appointment from the list');
    if (errors.any) return renderTypes(reply, p, errors, type);
    return reply.redirect(`/gp/appointments/slots?type=${encodeURIComponent(type)}`, 303);
  }));

  interface SlotFilters { type: string; range: number; mode?: AppointmentMode; clinician?: string }
  const filtersOf = (q: Record<string, unknown>): SlotFilters => {
    const range = Number(q.range);
    const mode = str(q.mode) as AppointmentMode;
    const clinician = str(q.clinician).trim().slice(0, 120);
    return { type: str(q.type), range: RANGES.includes(range) ? range : 14, mode: appointmentModes.includes(mode) ? mode : undefined, clinician: clinician || undefined };
  };

  const renderSlots = async (reply: FastifyReply, p: GpPatient, f: SlotFilters, errors?: FormErrors) => {
    if (!f.type) return reply.redirect('/gp/appointments/book', 303);
    let slots;
    try {
      slots = await section(p.searchSlots({ from: new Date(Date.now() + 60_000).toISOString(), to: new Date(Date.now() + f.range * DAY).toISOString(), appointmentType: f.type, mode: f.mode }));
    } catch (err) {
      if (err instanceof GpDomainError && err.code === 'unknown-appointment-type') {
        return renderTypes(reply, p, new FormErrors().add('type', 'Select a type of appointment from the list'), f.type);
      }
      throw err;
    }
    // The clinicians come from the same search, so the list offers only people with free times; choosing one
    // narrows that list here rather than asking the supplier again.
    const found = slots.value ?? [];
    const clinicians = [...new Set(found.map((s) => s.clinician))].sort();
    const all = f.clinician ? found.filter((s) => s.clinician === f.clinician) : found;
    return page(reply, 'gp-choose-slot.njk', {
      title: 'Choose an appointment time', back: { href: '/gp/appointments/book' }, practice: p.practice,
      unavailable: slots.unavailable, filters: f,
      rangeItems: RANGES.map((r) => ({ value: String(r), text: `Next ${r} days`, selected: r === f.range })),
      modeItems: [{ value: '', text: 'Any way', selected: !f.mode }, ...appointmentModes.map((m) => ({ value: m, text: MODE_NAMES[m], selected: m === f.mode }))],
      clinicianItems: [{ value: '', text: 'Anyone', selected: !f.clinician }, ...clinicians.map((c) => ({ value: c, text: c, selected: c === f.clinician }))],
      slots: all.slice(0, SLOTS_SHOWN), slotItems: slotItems(all.slice(0, SLOTS_SHOWN)), more: all.length > SLOTS_SHOWN, total: all.length,
      csrfToken: reply.generateCsrf(), ...errors?.toView(),
    }, errors?.any ? 400 : slots.unavailable ? 503 : 200);
  };

  app.get<{ Querystring: Record<string, string> }>('/gp/appointments/slots', gpRoute<{ Querystring: Record<string, string> }>(async (req, reply) =>
    renderSlots(reply, await gp(req, 'book appointment'), filtersOf(req.query))));

  app.post<{ Body: Body }>('/gp/appointments/slots', csrf, gpRoute<{ Body: Body }>(async (req, reply) => {
    const p = await gp(req, 'book appointment');
    const f = filtersOf(req.body ?? {});
    const slot = str(req.body?.slot);
    if (!slot) return renderSlots(reply, p, f, new FormErrors().add('slot', 'Select an appointment time'));
    return reply.redirect(`/gp/appointments/check?type=${encodeURIComponent(f.type)}&slot=${encodeURIComponent(slot)}`, 303);
  }));

  /** The slot as the supplier holds it now: searched from a week back, so a past slot is told apart from a gone one. */
  const findSlot = async (p: GpPatient, type: string, slotId: string) => {
    const slots = await p.searchSlots({ from: new Date(Date.now() - 7 * DAY).toISOString(), to: new Date(Date.now() + 28 * DAY).toISOString(), appointmentType: type || undefined });
    return slots.find((s) => s.id === slotId);
  };
  const freshSlots = (p: GpPatient, type: string) =>
    p.searchSlots({ from: new Date(Date.now() + 60_000).toISOString(), to: new Date(Date.now() + 14 * DAY).toISOString(), appointmentType: type || undefined });

  const renderGone = (reply: FastifyReply, type: string, fresh: GpSlot[]) =>
    page(reply, 'gp-slot-gone.njk', {
      title: 'That appointment time has gone', back: { href: `/gp/appointments/slots?type=${encodeURIComponent(type)}` },
      type, slots: fresh.slice(0, 10), slotItems: slotItems(fresh.slice(0, 10)), csrfToken: reply.generateCsrf(),
    }, 409);
  const renderPast = (reply: FastifyReply, type: string) =>
    page(reply, 'gp-problem.njk', {
      title: 'That appointment time has passed', message: 'You cannot book an appointment in the past. Choose another time.',
      action: { text: 'Choose another time', href: `/gp/appointments/slots?type=${encodeURIComponent(type)}` }, back: { href: '/gp/appointments' },
    }, 400);

  const renderCheck = async (reply: FastifyReply, p: GpPatient, type: string, slotId: string, formToken: string, reason = '', errors?: FormErrors) => {
    const slot = await findSlot(p, type, slotId);
    if (!slot) return renderGone(reply, type, await freshSlots(p, type));
    if (Date.parse(slot.start) <= Date.now()) return renderPast(reply, type);
    return page(reply, 'gp-check-appointment.njk', {
      title: 'Check and book your appointment', back: { href: `/gp/appointments/slots?type=${encodeURIComponent(type)}` }, practice: p.practice,
      slot: slotView(slot), type, formToken, reason, csrfToken: reply.generateCsrf(), ...errors?.toView(),
    }, errors?.any ? 400 : 200);
  };

  app.get<{ Querystring: Record<string, string> }>('/gp/appointments/check', gpRoute<{ Querystring: Record<string, string> }>(async (req, reply) => {
    const p = await gp(req, 'book appointment');
    const slot = str(req.query.slot);
    if (!slot) return reply.redirect(`/gp/appointments/slots?type=${encodeURIComponent(str(req.query.type))}`, 303);
    return renderCheck(reply, p, str(req.query.type), slot, newFormToken());
  }));

  app.post<{ Body: Body }>('/gp/appointments/check', csrf, gpRoute<{ Body: Body }>(async (req, reply) => {
    const p = await gp(req, 'book appointment');
    const b = req.body ?? {};
    const type = str(b.type);
    const slotId = str(b.slot);
    const reason = str(b.reason);
    const formToken = str(b.formToken);
    if (!slotId) return renderSlots(reply, p, filtersOf(b), new FormErrors().add('slot', 'Select an appointment time'));
    if (!isFormToken(formToken)) return renderCheck(reply, p, type, slotId, newFormToken(), reason);
    const errors = new FormErrors();
    if (!reason) errors.add('reason', 'Enter what the appointment is for');
    else if (reason.length > MAX_TEXT) errors.add('reason', `Reason must be ${MAX_TEXT} characters or fewer`);
    if (errors.any) return renderCheck(reply, p, type, slotId, formToken, reason, errors);
    try {
      await p.book({ slotId, reason }, formToken);
    } catch (err) {
      if (err instanceof SlotUnavailableError) return renderGone(reply, type, err.freshSlots.length ? err.freshSlots : await freshSlots(p, type));
      if (err instanceof GpDomainError && err.code === 'not-found') return renderGone(reply, type, await freshSlots(p, type));
      if (err instanceof GpDomainError && err.code === 'slot-in-past') return renderPast(reply, type);
      throw err;
    }
    return reply.redirect(`/gp/appointments/confirmation?ref=${formToken}`, 303);
  }));

  app.get<{ Querystring: { ref?: string } }>('/gp/appointments/confirmation', gpRoute<{ Querystring: { ref?: string } }>(async (req, reply) => {
    const p = await gp(req, 'view appointments');
    const a = isFormToken(req.query.ref) ? await p.writeResult<GpAppointment>('booking', req.query.ref) : undefined;
    if (!a) throw new GpDomainError('not-found', 'No such booking');
    return page(reply, 'gp-booked.njk', { title: 'Appointment booked', appointment: appointmentView(a), practice: p.practice });
  }));

  const renderCancel = async (reply: FastifyReply, p: GpPatient, id: string, reason = '', errors?: FormErrors) => {
    const a = await p.appointment(id);
    return page(reply, 'gp-cancel.njk', {
      title: 'Cancel your appointment', back: { href: '/gp/appointments' }, appointment: appointmentView(a),
      reason, csrfToken: reply.generateCsrf(), ...errors?.toView(),
    }, errors?.any ? 400 : 200);
  };

  app.get<{ Params: { id: string } }>('/gp/appointments/:id/cancel', gpRoute<{ Params: { id: string } }>(async (req, reply) =>
    renderCancel(reply, await gp(req, 'cancel appointment'), req.params.id)));

  app.post<{ Params: { id: string }; Body: Body }>('/gp/appointments/:id/cancel', csrf, gpRoute<{ Params: { id: string }; Body: Body }>(async (req, reply) => {
    const p = await gp(req, 'cancel appointment');
    const reason = str(req.body?.reason);
    const errors = new FormErrors();
    if (!reason) errors.add('reason', 'Enter why you are cancelling the appointment');
    else if (reason.length > MAX_TEXT) errors.add('reason', `Reason must be ${MAX_TEXT} characters or fewer`);
    if (errors.any) return renderCancel(reply, p, req.params.id, reason, errors);
    try {
      await p.cancel(req.params.id, reason);
    } catch (err) {
      if (err instanceof GpDomainError && (err.code === 'already-cancelled' || err.code === 'appointment-in-past')) {
        const text = err.code === 'already-cancelled' ? 'This appointment has already been cancelled' : 'This appointment has already happened, so it cannot be cancelled';
        return renderCancel(reply, p, req.params.id, reason, new FormErrors().add('reason', text));
      }
      throw err;
    }
    return reply.redirect(`/gp/appointments/${encodeURIComponent(req.params.id)}/cancelled`, 303);
  }));

  app.get<{ Params: { id: string } }>('/gp/appointments/:id/cancelled', gpRoute<{ Params: { id: string } }>(async (req, reply) => {
    const p = await gp(req, 'view appointments');
    const a = await p.appointment(req.params.id);
    if (a.status !== 'cancelled') return reply.redirect('/gp/appointments', 303);
    return page(reply, 'gp-cancelled.njk', { title: 'Appointment cancelled', appointment: appointmentView(a), practice: p.practice });
  }));

  // --- repeat prescriptions --------------------------------------------------------------------------
  app.get<{ Querystring: { pharmacy?: string } }>('/gp/prescriptions', gpRoute<{ Querystring: { pharmacy?: string } }>(async (req, reply) => {
    const p = await gp(req, 'view prescriptions');
    const [repeats, requests, pharmacy] = await Promise.all([section(p.listRepeats()), section(p.listRequests()), section(p.getNominatedPharmacy())]);
    return page(reply, 'gp-prescriptions.njk', {
      title: 'Your prescriptions', back: { href: '/' }, practice: p.practice,
      repeats, requests: { ...requests, value: requests.value?.map(requestView) }, pharmacy,
      pharmacyChanged: req.query.pharmacy === 'changed',
    });
  }));

  const renderOrder = async (reply: FastifyReply, p: GpPatient, chosen: string[] = [], note = '', errors?: FormErrors, repeats?: RepeatMedication[]) => {
    const meds = repeats ? { value: repeats } : await section(p.listRepeats());
    return page(reply, 'gp-order.njk', {
      title: 'Which medicines do you need?', back: { href: '/gp/prescriptions' }, unavailable: meds.unavailable,
      // Medicines that cannot be ordered now are listed apart, with the reason, not as disabled boxes (hard to read).
      medicineItems: (meds.value ?? []).filter((m) => m.canRequestNow).map((m) => ({
        value: m.id, text: m.name, checked: chosen.includes(m.id), hint: { text: `${m.dose}${m.quantity ? `, ${m.quantity}` : ''}` },
      })),
      notNow: (meds.value ?? []).filter((m) => !m.canRequestNow),
      note, csrfToken: reply.generateCsrf(), ...errors?.toView(),
    }, errors?.any ? 400 : meds.unavailable ? 503 : 200);
  };

  /** Checks the chosen medicines against the repeat list: precise errors for an empty, unknown or too-early choice. */
  const checkOrder = (repeats: RepeatMedication[], chosen: string[], note: string): FormErrors => {
    const errors = new FormErrors();
    if (!chosen.length) errors.add('medicines', 'Select the medicines you need');
    for (const id of chosen) {
      const m = repeats.find((r) => r.id === id);
      if (!m) errors.add('medicines', 'Select only medicines on your repeat prescription list');
      else if (!m.canRequestNow) errors.add('medicines', `You cannot order ${m.name} now: ${m.cannotRequestReason ?? 'contact your GP surgery'}`);
    }
    if (note.length > MAX_TEXT) errors.add('note', `Note must be ${MAX_TEXT} characters or fewer`);
    return errors;
  };

  app.get('/gp/prescriptions/order', gpRoute(async (req, reply) => renderOrder(reply, await gp(req, 'order prescription'))));

  app.post<{ Body: Body }>('/gp/prescriptions/order', csrf, gpRoute<{ Body: Body }>(async (req, reply) => {
    const p = await gp(req, 'order prescription');
    const chosen = [...new Set(list(req.body?.medicines))];
    const note = str(req.body?.note);
    const repeats = await p.listRepeats();
    const errors = checkOrder(repeats, chosen, note);
    if (errors.any) return renderOrder(reply, p, chosen, note, errors, repeats);
    return page(reply, 'gp-check-order.njk', {
      title: 'Check your prescription request', back: { href: '/gp/prescriptions/order' },
      medicines: repeats.filter((r) => chosen.includes(r.id)), note,
      checkRows: [
        { key: { text: 'Medicines' }, value: { text: repeats.filter((r) => chosen.includes(r.id)).map((r) => r.name).join(', ') }, actions: { items: [{ href: '/gp/prescriptions/order', text: 'Change', visuallyHiddenText: 'medicines' }] } },
        { key: { text: 'Note' }, value: { text: note || 'None' } },
      ], formToken: newFormToken(), csrfToken: reply.generateCsrf(), practice: p.practice,
    });
  }));

  app.post<{ Body: Body }>('/gp/prescriptions/check', csrf, gpRoute<{ Body: Body }>(async (req, reply) => {
    const p = await gp(req, 'order prescription');
    const chosen = [...new Set(list(req.body?.medicines))];
    const note = str(req.body?.note);
    const formToken = str(req.body?.formToken);
    const repeats = await p.listRepeats();
    const errors = checkOrder(repeats, chosen, note);
    if (!isFormToken(formToken)) errors.add('medicines', 'Your request has expired: select your medicines again');
    // A request already made with this token shows its confirmation, even though the medicines are now "requested".
    const done = isFormToken(formToken) ? await p.writeResult<RepeatRequest>('repeat-request', formToken) : undefined;
    if (done) return reply.redirect(`/gp/prescriptions/confirmation?ref=${formToken}`, 303);
    if (errors.any) return renderOrder(reply, p, chosen, note, errors, repeats);
    try {
      await p.requestRepeats({ medicationIds: chosen, note: note || undefined }, formToken);
    } catch (err) {
      if (err instanceof GpDomainError && (err.code === 'not-on-repeat' || err.code === 'too-early' || err.code === 'invalid-request')) {
        const text = err.code === 'not-on-repeat' ? 'Select only medicines on your repeat prescription list' : err.message;
        return renderOrder(reply, p, chosen, note, new FormErrors().add('medicines', text));
      }
      throw err;
    }
    return reply.redirect(`/gp/prescriptions/confirmation?ref=${formToken}`, 303);
  }));

  app.get<{ Querystring: { ref?: string } }>('/gp/prescriptions/confirmation', gpRoute<{ Querystring: { ref?: string } }>(async (req, reply) => {
    const p = await gp(req, 'view prescriptions');
    const r = isFormToken(req.query.ref) ? await p.writeResult<RepeatRequest>('repeat-request', req.query.ref) : undefined;
    if (!r) throw new GpDomainError('not-found', 'No such request');
    return page(reply, 'gp-ordered.njk', { title: 'Prescription request sent', request: requestView(r), practice: p.practice });
  }));

  const renderPharmacy = async (reply: FastifyReply, p: GpPatient, value = '', errors?: FormErrors) => {
    const current = await section(p.getNominatedPharmacy());
    return page(reply, 'gp-pharmacy.njk', {
      title: 'Change your nominated pharmacy', back: { href: '/gp/prescriptions' }, current, value,
      csrfToken: reply.generateCsrf(), ...errors?.toView(),
    }, errors?.any ? 400 : current.unavailable ? 503 : 200);
  };

  app.get('/gp/prescriptions/pharmacy', gpRoute(async (req, reply) => renderPharmacy(reply, await gp(req, 'change pharmacy'))));

  app.post<{ Body: Body }>('/gp/prescriptions/pharmacy', csrf, gpRoute<{ Body: Body }>(async (req, reply) => {
    const p = await gp(req, 'change pharmacy');
    const given = validatePharmacyCode(str(req.body?.pharmacy));
    if (!given.ok) return renderPharmacy(reply, p, str(req.body?.pharmacy).trim(), new FormErrors().add('pharmacy', given.message));
    const code = given.value;
    try {
      await p.setNominatedPharmacy(code);
    } catch (err) {
      if (err instanceof GpDomainError && err.code === 'invalid-pharmacy') return renderPharmacy(reply, p, code, new FormErrors().add('pharmacy', 'Enter the code of a pharmacy that exists'));
      throw err;
    }
    return reply.redirect('/gp/prescriptions?pharmacy=changed', 303);
  }));

  // --- GP record -------------------------------------------------------------------------------------
  app.get('/gp/record', gpRoute(async (req, reply) => {
    const p = await gp(req, 'view GP record');
    return page(reply, 'gp-record.njk', { title: 'Your GP health record', back: { href: '/' }, practice: p.practice, sections: recordSections.map((s) => ({ id: s, title: SECTION_TITLES[s] })) });
  }));

  app.get<{ Params: { section: string } }>('/gp/record/:section', gpRoute<{ Params: { section: string } }>(async (req, reply) => {
    const s = req.params.section as RecordSection;
    if (!recordSections.includes(s)) return page(reply, 'not-found.njk', { title: 'Page not found' }, 404);
    const p = await gp(req, 'view GP record');
    const rec = await section(p.getRecord(s));
    return page(reply, 'gp-record-section.njk', {
      title: SECTION_TITLES[s], back: { href: '/gp/record' }, practice: p.practice, section: s,
      unavailable: rec.unavailable, record: rec.value,
      entries: (rec.value?.entries ?? []).map((e) => {
        const x = e as unknown as Record<string, unknown>;
        const dated = (k: string) => (typeof x[k] === 'string' ? dateText(x[k] as string) : undefined);
        const range = x.referenceRange as { low?: number; high?: number } | undefined;
        const unit = typeof x.unit === 'string' ? x.unit : '';
        return { ...x, resultText: typeof x.value === 'number' ? measured(x.value, unit) : undefined, rangeText: rangeText(range, unit), dateText: dated('date'), recordedText: dated('recordedDate'), onsetText: dated('onsetDate'), startText: dated('startDate'), endText: dated('endDate') };
      }),
    }, rec.unavailable ? 503 : 200);
  }));
}
