// The web-consultation sandbox's HTML: NHS.UK frontend markup written by hand (a supplier's own service, not ours),
// in a good variant that passes axe and an 'inaccessible' variant with the faults accessibility assurance must catch.
import type { Question, Triage } from './questionnaire.ts';

export const SERVICE_NAME = 'TriagePoint';

export interface Variant {
  /** Unlabelled controls, an image without alt text and low-contrast hints: what the accessibility gate must catch. */
  inaccessible: boolean;
  /** An image over plain HTTP from another host and a link off the allowed hosts: what the host checks must catch. */
  insecure: boolean;
}

export type FieldErrors = Record<string, string>;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function layout(v: Variant, title: string, body: string, opts: { errors?: boolean; signedIn?: boolean } = {}): string {
  const logo = v.inaccessible
    ? '<img class="app-logo" src="/assets/logo.svg" width="40" height="40">'
    : '<img class="app-logo" src="/assets/logo.svg" width="40" height="40" alt="">';
  const banner = v.insecure ? '<img src="http://cdn.triagepoint.example/banner.png" alt="TriagePoint banner" width="1" height="1">' : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.errors ? 'Error: ' : ''}${esc(title)} – ${SERVICE_NAME}</title>
<link rel="stylesheet" href="/assets/nhsuk.css">
<link rel="stylesheet" href="/assets/app.css">
</head>
<body>
<a class="nhsuk-skip-link" href="#maincontent">Skip to main content</a>
<header class="app-header">
<div class="nhsuk-width-container app-header__inner">${logo}<a class="app-header__name" href="/">${SERVICE_NAME} online consultation</a></div>
</header>
<div class="nhsuk-width-container">
<main class="nhsuk-main-wrapper" id="maincontent">
${body}
</main>
</div>
<footer class="app-footer">
<div class="nhsuk-width-container">${banner}<p class="nhsuk-body-s">${SERVICE_NAME} is a demonstration supplier service.${v.insecure ? ' <a href="http://feedback.triagepoint.example/survey">Give feedback</a>' : ''}</p></div>
</footer>
</body>
</html>`;
}

function errorSummary(errors: FieldErrors): string {
  const items = Object.entries(errors).map(([field, message]) => `<li><a href="#${esc(field)}">${esc(message)}</a></li>`).join('');
  return `<div class="nhsuk-error-summary" data-module="nhsuk-error-summary"><div role="alert"><h2 class="nhsuk-error-summary__title">There is a problem</h2><div class="nhsuk-error-summary__body"><ul class="nhsuk-list nhsuk-error-summary__list">${items}</ul></div></div></div>`;
}

const inlineError = (id: string, message?: string) =>
  message ? `<span class="nhsuk-error-message" id="${id}-error"><span class="nhsuk-u-visually-hidden">Error:</span> ${esc(message)}</span>` : '';

const csrfField = (csrf: string) => `<input type="hidden" name="_csrf" value="${esc(csrf)}">`;

const urgentHelp = `<div class="nhsuk-inset-text"><span class="nhsuk-u-visually-hidden">Information: </span><p>If you need help now, <a href="https://111.nhs.uk/">use NHS 111 online</a> or call 111. In an emergency call 999.</p></div>`;

export function signInPage(v: Variant, csrf: string, errors: FieldErrors = {}, email = ''): string {
  const has = Object.keys(errors).length > 0;
  const field = (id: string, label: string, type: string, value: string, autocomplete: string) => `
<div class="nhsuk-form-group${errors[id] ? ' nhsuk-form-group--error' : ''}">
<label class="nhsuk-label" for="${id}">${label}</label>${inlineError(id, errors[id])}
<input class="nhsuk-input${errors[id] ? ' nhsuk-input--error' : ''}" id="${id}" name="${id}" type="${type}" value="${esc(value)}" autocomplete="${autocomplete}"${errors[id] ? ` aria-describedby="${id}-error"` : ''}>
</div>`;
  return layout(v, 'Sign in', `${has ? errorSummary(errors) : ''}
<h1>Sign in to ${SERVICE_NAME}</h1>
<p>Sign in with your ${SERVICE_NAME} account to ask your GP surgery for help.</p>
<form method="post" action="/sign-in" novalidate>${csrfField(csrf)}
${field('email', 'Email address', 'email', email, 'email')}
${field('password', 'Password', 'password', '', 'current-password')}
<button class="nhsuk-button" data-module="nhsuk-button" type="submit">Sign in</button>
</form>`, { errors: has });
}

export function handOffRefusedPage(v: Variant, reason: string): string {
  return layout(v, 'We could not sign you in', `<h1>We could not sign you in</h1>
<p>The sign-in details sent from the NHS App could not be used (${esc(reason)}).</p>
<p>Go back to the NHS App and try again.</p>`);
}

export function startPage(v: Variant, title: string, firstQuestion: string): string {
  return layout(v, 'Get help with anxiety or worry', `<h1>Get help with anxiety or worry</h1>
<p>Answer some questions about how you have been feeling. Your GP surgery reads your answers and replies.</p>
<p>It takes about 5 minutes. The questions come from the ${esc(title)} questionnaire.</p>
${urgentHelp}
<a href="${esc(firstQuestion)}" role="button" draggable="false" class="nhsuk-button nhsuk-button--start" data-module="nhsuk-button">Start now</a>`);
}

export function questionPage(v: Variant, q: Question, n: number, total: number, opts: { csrf: string; value?: string; error?: string; back: string; returnToCheck: boolean }): string {
  const id = 'answer';
  const described = [q.hint ? `${id}-hint` : '', opts.error ? `${id}-error` : ''].filter(Boolean).join(' ');
  const hintClass = v.inaccessible ? 'nhsuk-hint app-faint' : 'nhsuk-hint';
  const hint = q.hint ? `<div class="${hintClass}" id="${id}-hint">${esc(q.hint)}</div>` : '';
  let field: string;
  if (q.kind === 'text') {
    const heading = v.inaccessible
      ? `<h1 class="nhsuk-label-wrapper nhsuk-label--l">${esc(q.text)}</h1>`
      : `<h1 class="nhsuk-label-wrapper"><label class="nhsuk-label nhsuk-label--l" for="${id}">${esc(q.text)}</label></h1>`;
    field = `${heading}${hint}${inlineError(id, opts.error)}
<textarea class="nhsuk-textarea${opts.error ? ' nhsuk-textarea--error' : ''}" id="${id}" name="${id}" rows="6"${described ? ` aria-describedby="${described}"` : ''}>${esc(opts.value ?? '')}</textarea>`;
  } else {
    const items = q.options.map((o, i) => {
      const oid = i === 0 ? id : `${id}-${i + 1}`;
      const input = `<input class="nhsuk-radios__input" id="${oid}" name="${id}" type="radio" value="${esc(o.code)}"${opts.value === o.code ? ' checked' : ''}>`;
      const label = v.inaccessible ? `<span class="nhsuk-radios__label">${esc(o.display)}</span>` : `<label class="nhsuk-label nhsuk-radios__label" for="${oid}">${esc(o.display)}</label>`;
      return `<div class="nhsuk-radios__item">${input}${label}</div>`;
    }).join('\n');
    field = `<fieldset class="nhsuk-fieldset"${described ? ` aria-describedby="${described}"` : ''}>
<legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--l"><h1 class="nhsuk-fieldset__heading">${esc(q.text)}</h1></legend>
${hint}${inlineError(id, opts.error)}
<div class="nhsuk-radios">
${items}
</div>
</fieldset>`;
  }
  return layout(v, q.text, `<a class="nhsuk-back-link" href="${esc(opts.back)}">Back</a>
${opts.error ? errorSummary({ [id]: opts.error }) : ''}
<span class="nhsuk-caption-l">Question ${n} of ${total}</span>
<form method="post" action="/questions/${n}" novalidate>${csrfField(opts.csrf)}${opts.returnToCheck ? '<input type="hidden" name="returnTo" value="check">' : ''}
<div class="nhsuk-form-group${opts.error ? ' nhsuk-form-group--error' : ''}">
${field}
</div>
<button class="nhsuk-button" data-module="nhsuk-button" type="submit">Continue</button>
</form>`, { errors: Boolean(opts.error) });
}

export function checkPage(v: Variant, rows: { n: number; question: string; answer: string }[], csrf: string, back: string): string {
  const list = rows.map((r) => `<div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">${esc(r.question)}</dt><dd class="nhsuk-summary-list__value">${esc(r.answer)}</dd><dd class="nhsuk-summary-list__actions"><a href="/questions/${r.n}?change=check">Change<span class="nhsuk-u-visually-hidden"> your answer to: ${esc(r.question)}</span></a></dd></div>`).join('\n');
  return layout(v, 'Check your answers before sending your request', `<a class="nhsuk-back-link" href="${esc(back)}">Back</a>
<h1>Check your answers before sending your request</h1>
<dl class="nhsuk-summary-list">
${list}
</dl>
<h2>Now send your request</h2>
<p>By sending this request you are confirming that, to the best of your knowledge, the answers you are giving are correct.</p>
<form method="post" action="/check" novalidate>${csrfField(csrf)}
<button class="nhsuk-button" data-module="nhsuk-button" type="submit">Send request</button>
</form>`);
}

export function confirmationPage(v: Variant, reference: string, t: Triage): string {
  return layout(v, 'Request sent', `<div class="nhsuk-panel nhsuk-panel--confirmation">
<h1 class="nhsuk-panel__title">Request sent</h1>
<div class="nhsuk-panel__body">Your reference number<br><strong class="app-reference">${esc(reference)}</strong></div>
</div>
<h2>What happens next</h2>
<p>${esc(t.outcome)}</p>
${urgentHelp}`);
}

export function notFoundPage(v: Variant): string {
  return layout(v, 'Page not found', `<h1>Page not found</h1>
<p>If you typed the web address, check it is correct.</p>
<p><a href="/">Go to the start of ${SERVICE_NAME}</a></p>`);
}

export function problemPage(v: Variant, status: number): string {
  return layout(v, 'Sorry, there is a problem with the service', `<h1>Sorry, there is a problem with the service</h1>
<p>Try again later. (${status})</p>
${urgentHelp}`);
}

export const appCss = `.app-header { background: #005eb8; color: #fff; padding: 12px 0; }
.app-header__inner { display: flex; align-items: center; gap: 12px; }
.app-header__name { color: #fff; font-weight: 600; font-size: 1.25rem; }
.app-header__name:visited, .app-header__name:hover { color: #fff; }
.app-header__name:focus { color: #212b32; }
.app-footer { border-top: 4px solid #005eb8; padding: 16px 0; margin-top: 32px; background: #e8edee; }
.app-reference { font-size: 1.5rem; letter-spacing: 0.05em; }
.app-faint { color: #d8dde0; }
`;

export const logoSvg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40" width="40" height="40"><rect width="40" height="40" rx="6" fill="#fff"/><path d="M8 12h24v5H23v15h-6V17H8z" fill="#005eb8"/></svg>`;
