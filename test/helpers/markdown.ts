/**
 * What the docs test reads in a Markdown page: its links, its heading anchors (as GitHub makes
 * them), its code (fenced blocks and inline spans, where commands and flags are written) and its
 * runnable blocks (fenced ```sh test).
 */

export interface Fence {
  readonly info: string;
  readonly body: string;
}

/** The fenced blocks of a page, with their info string (`sh`, `sh test`, `js`...). */
export function fences(text: string): Fence[] {
  return [...text.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => ({
    info: m[1]!.trim(),
    body: m[2]!,
  }));
}

/** The page without its fenced blocks: prose, where links and headings are. */
export function prose(text: string): string {
  return text.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');
}

/** The inline code spans of the prose (`like this`). */
export function inlineCode(text: string): string[] {
  return [...prose(text).matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
}

/** Relative link targets of the prose, outside inline code: `[text](target)`. */
export function relativeLinks(text: string): string[] {
  const plain = prose(text).replace(/`[^`\n]*`/g, '');
  return [...plain.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((t) => !/^[a-z]+:/.test(t));
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor of a page, with GitHub's -1, -2 suffixes for repeated headings. */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of prose(text).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}
