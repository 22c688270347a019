// Collects a form's errors in the shape the NHS error pattern needs: a summary list linking to each field,
// and the message shown inline beside that field.
export interface ErrorLink {
  text: string;
  href: string;
}

export class FormErrors {
  private readonly items: { field: string; text: string }[] = [];

  add(field: string, text: string): this {
    if (!this.items.some((i) => i.field === field)) this.items.push({ field, text });
    return this;
  }

  get any(): boolean {
    return this.items.length > 0;
  }

  /** Context for a view: `errors` for the summary, `fieldErrors` for inline messages. */
  toView(): { errors: ErrorLink[]; fieldErrors: Record<string, string> } {
    return {
      errors: this.items.map((i) => ({ text: i.text, href: `#${i.field}` })),
      fieldErrors: Object.fromEntries(this.items.map((i) => [i.field, i.text])),
    };
  }
}
