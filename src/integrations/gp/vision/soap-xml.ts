// A small, fast reader for the plain XML this dialect uses (elements, attributes, text; no mixed content),
// giving the same tree shape as fast-xml-parser with removeNSPrefix: the general parser cost several ms a page.
type Node = Record<string, unknown>;

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
function decode(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (m, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return entities[e] ?? m;
  });
}
const local = (name: string) => name.slice(name.indexOf(':') + 1);

export class XmlSyntaxError extends Error {}

/** Parses a document; throws XmlSyntaxError on anything malformed. */
export function readXml(text: string): Node {
  let i = 0;
  const n = text.length;
  const fail = (why: string): never => { throw new XmlSyntaxError(`${why} at ${i}`); };
  const skipMisc = () => {
    for (;;) {
      while (i < n && text.charCodeAt(i) <= 32) i++;
      if (text.startsWith('<?', i)) { const e = text.indexOf('?>', i); if (e < 0) fail('unclosed declaration'); i = e + 2; }
      else if (text.startsWith('<!--', i)) { const e = text.indexOf('-->', i); if (e < 0) fail('unclosed comment'); i = e + 3; }
      else return;
    }
  };
  const add = (parent: Node, key: string, value: unknown) => {
    const prev = parent[key];
    if (prev === undefined) parent[key] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else parent[key] = [prev, value];
  };
  const element = (parent: Node) => {
    if (text.charCodeAt(i) !== 60) fail('expected an element');
    i++;
    const nameStart = i;
    while (i < n && !/[\s/>]/.test(text[i])) i++;
    const name = text.slice(nameStart, i);
    if (!name) fail('empty element name');
    const attrs: Node = {};
    let hasAttrs = false;
    for (;;) {
      while (i < n && text.charCodeAt(i) <= 32) i++;
      if (i >= n) fail('unclosed start tag');
      if (text[i] === '/' || text[i] === '>') break;
      const eq = text.indexOf('=', i);
      if (eq < 0) fail('attribute without value');
      const attr = text.slice(i, eq).trim();
      const q = text[eq + 1];
      if (q !== '"' && q !== "'") fail('unquoted attribute');
      const end = text.indexOf(q, eq + 2);
      if (end < 0) fail('unclosed attribute');
      if (!attr.startsWith('xmlns')) { attrs[`@${local(attr)}`] = decode(text.slice(eq + 2, end)); hasAttrs = true; }
      i = end + 1;
    }
    if (text[i] === '/') {
      if (text[i + 1] !== '>') fail('bad empty element');
      i += 2;
      add(parent, local(name), hasAttrs ? attrs : '');
      return;
    }
    i++;
    const node: Node = attrs;
    let textContent = '';
    let children = false;
    for (;;) {
      const lt = text.indexOf('<', i);
      if (lt < 0) fail(`unclosed element ${name}`);
      textContent += text.slice(i, lt);
      i = lt;
      if (text.startsWith('</', i)) {
        const gt = text.indexOf('>', i);
        if (gt < 0 || text.slice(i + 2, gt).trim() !== name) fail(`mismatched end tag for ${name}`);
        i = gt + 1;
        break;
      }
      if (text.startsWith('<!--', i)) { const e = text.indexOf('-->', i); if (e < 0) fail('unclosed comment'); i = e + 3; continue; }
      if (text.startsWith('<![CDATA[', i)) { const e = text.indexOf(']]>', i); if (e < 0) fail('unclosed CDATA'); textContent += text.slice(i + 9, e); i = e + 3; continue; }
      children = true;
      element(node);
    }
    const t = decode(textContent.trim());
    if (!children && !hasAttrs) add(parent, local(name), t);
    else {
      if (t) node['#text'] = t;
      add(parent, local(name), node);
    }
  };
  const root: Node = {};
  skipMisc();
  element(root);
  skipMisc();
  if (i < n) fail('content after the root element');
  return root;
}
