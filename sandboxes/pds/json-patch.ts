// JSON Patch (RFC 6902) subset the PDS sandbox accepts: add, remove, replace and test, on a working copy.
import { isDeepStrictEqual } from 'node:util';

export interface PatchOperation {
  op: 'add' | 'remove' | 'replace' | 'test';
  path: string;
  value?: unknown;
}

export class PatchError extends Error {
  constructor(readonly path: string, message: string) {
    super(message);
  }
}

/** Checks the body is a list of operations this sandbox understands, before anything is applied. */
export function parsePatch(body: unknown): PatchOperation[] {
  if (!Array.isArray(body) || body.length === 0) throw new PatchError('', 'The body must be a non-empty JSON Patch array');
  return body.map((raw, i) => {
    const op = raw as Partial<PatchOperation> | null;
    if (!op || typeof op !== 'object') throw new PatchError('', `Operation ${i} is not an object`);
    if (!['add', 'remove', 'replace', 'test'].includes(op.op as string)) throw new PatchError(String(op.path ?? ''), `Operation ${i}: "op" must be add, remove, replace or test`);
    if (typeof op.path !== 'string' || (op.path !== '' && !op.path.startsWith('/'))) throw new PatchError(String(op.path ?? ''), `Operation ${i}: "path" must be a JSON pointer`);
    if (op.op !== 'remove' && !('value' in op)) throw new PatchError(op.path, `Operation ${i}: "${op.op}" needs a value`);
    return { op: op.op, path: op.path, value: op.value } as PatchOperation;
  });
}

export function pointerTokens(path: string): string[] {
  if (path === '') return [];
  return path.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = Record<string, unknown> | unknown[];

function parentOf(doc: unknown, tokens: string[], path: string): { parent: Container; key: string } {
  if (tokens.length === 0) throw new PatchError(path, 'The whole resource cannot be patched');
  let node: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    node = child(node, t, path);
  }
  if (!node || typeof node !== 'object') throw new PatchError(path, `No such path ${path}`);
  return { parent: node as Container, key: tokens[tokens.length - 1] };
}

function child(node: unknown, token: string, path: string): unknown {
  if (Array.isArray(node)) {
    const i = arrayIndex(token, node.length - 1, path);
    return node[i];
  }
  if (node && typeof node === 'object' && token in node) return (node as Record<string, unknown>)[token];
  throw new PatchError(path, `No such path ${path}`);
}

function arrayIndex(token: string, max: number, path: string): number {
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new PatchError(path, `"${token}" is not a list index in ${path}`);
  const i = Number(token);
  if (i > max) throw new PatchError(path, `Index ${i} is beyond the end of the list in ${path}`);
  return i;
}

export function getAt(doc: unknown, path: string): unknown {
  let node = doc;
  for (const t of pointerTokens(path)) node = child(node, t, path);
  return node;
}

/** Applies one operation to `doc` in place; throws PatchError, leaving the caller to discard the copy. */
export function applyOperation(doc: unknown, op: PatchOperation): void {
  const tokens = pointerTokens(op.path);
  if (op.op === 'test') {
    const actual = getAt(doc, op.path);
    if (!isDeepStrictEqual(actual, op.value)) throw new PatchError(op.path, `Test failed: ${op.path} does not hold the expected value`);
    return;
  }
  const { parent, key } = parentOf(doc, tokens, op.path);
  if (Array.isArray(parent)) {
    if (op.op === 'add') {
      const i = key === '-' ? parent.length : arrayIndex(key, parent.length, op.path);
      parent.splice(i, 0, structuredClone(op.value));
    } else {
      const i = arrayIndex(key, parent.length - 1, op.path);
      if (op.op === 'remove') parent.splice(i, 1);
      else parent[i] = structuredClone(op.value);
    }
    return;
  }
  const obj = parent as Record<string, unknown>;
  if (op.op !== 'add' && !(key in obj)) throw new PatchError(op.path, `No such path ${op.path}`);
  if (op.op === 'remove') delete obj[key];
  else obj[key] = structuredClone(op.value);
}
