// Reads Markdown as GitHub does (CommonMark + GFM tables, autolinks, strikethrough,
// footnotes), so tests assert on what a reader sees rather than on the Markdown source.
import type { Nodes, Root } from 'mdast';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { gfm } from 'micromark-extension-gfm';

export function parseGfm(markdown: string): Root {
  return fromMarkdown(markdown, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] });
}

/** Every node of the tree, depth first. */
export function allNodes(node: Nodes): Nodes[] {
  const out: Nodes[] = [node];
  if ('children' in node) for (const child of node.children) out.push(...allNodes(child));
  return out;
}

/** What a reader sees of a node: its text, code and raw HTML joined, zero-width spaces removed. */
export function visibleText(node: Nodes): string {
  if (node.type === 'text' || node.type === 'inlineCode' || node.type === 'code') return node.value.replaceAll('\u200b', '');
  if (node.type === 'html') return '';
  return 'children' in node ? node.children.map(visibleText).join('') : '';
}

/** The renderer's own raw HTML; any other HTML came from data. */
const OWN_HTML = /<\/?(br|code|details|summary)>/g;

/** Nodes a value from data must never turn into: links, images, footnotes, raw HTML. */
export function injected(root: Root): Nodes[] {
  const kinds = new Set(['link', 'image', 'linkReference', 'imageReference', 'definition', 'footnoteReference', 'footnoteDefinition']);
  return allNodes(root).filter((n) => kinds.has(n.type) || (n.type === 'html' && n.value.replace(OWN_HTML, '').includes('<')));
}

/** Emphasis, strong and strikethrough: the renderer's own only, never from data. */
export function formatted(root: Root): Nodes[] {
  return allNodes(root).filter((n) => n.type === 'emphasis' || n.type === 'strong' || n.type === 'delete');
}

/** Text a mention or a reference could be made of: `@name` or `#123` with nothing between. */
export function mentions(root: Root): string[] {
  return allNodes(root)
    .filter((n) => n.type === 'text')
    .flatMap((n) => (n as { value: string }).value.match(/[@#][\w-]+/g) ?? []);
}
