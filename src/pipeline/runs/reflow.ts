// WCAG 1.4.10 Reflow, which axe cannot check: at 320 CSS pixels wide (a 1280 px window at 400% zoom) a page must
// not scroll sideways. Shared by the assurance pipeline's accessibility runs and our own browser tests.
import type { Page } from 'playwright-core';

export const REFLOW_WIDTH = 320;

/**
 * Narrows the page's window to 320 px, lists (at most `limit`) elements reaching past its right edge, and puts
 * the window back. An empty list: the page reflows.
 */
export async function overflowAtNarrowWidth(page: Page, limit = 3): Promise<string[]> {
  const size = page.viewportSize();
  await page.setViewportSize({ width: REFLOW_WIDTH, height: size?.height ?? 800 });
  try {
    // No named functions inside: the TypeScript loader would wrap them in a helper the page does not have.
    return await page.evaluate((max) => {
      const root = document.documentElement;
      if (root.scrollWidth <= root.clientWidth) return [];
      return [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > root.clientWidth + 1 && !e.closest('.nhsuk-u-visually-hidden'))
        .slice(0, max)
        .map((e) => `${e.tagName.toLowerCase()}${typeof e.className === 'string' && e.className.trim() ? `.${e.className.trim().split(/\s+/).join('.')}` : ''} (right edge ${Math.round(e.getBoundingClientRect().right)} px)`);
    }, limit);
  } finally {
    if (size) await page.setViewportSize(size);
  }
}
