/**
 * Split a string into words the way a POSIX shell does (and Python's shlex.split, which
 * Gunicorn applies to GUNICORN_CMD_ARGS): whitespace separates words; single quotes keep
 * everything literally; double quotes keep spaces, and a backslash in them escapes only
 * `"`, `\`, `$` and a backtick; an unquoted backslash escapes any character. Adjacent parts join
 * into one word (`--x="a b"` is one word). No expansion of any kind: `$HOME` stays as written.
 * Throws a one-line Error (without naming the source: the caller adds it) on an unfinished
 * quote or a trailing backslash.
 */
export function splitShellWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  // A word exists once anything was read for it, even "" (an empty quoted word is a word).
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated single quote at character ${i + 1}`);
      word += text.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw new Error(`unterminated double quote at character ${i + 1}`);
        const d = text[j]!;
        if (d === '"') break;
        if (d === '\\' && j + 1 < text.length && '"\\$`'.includes(text[j + 1]!)) {
          word += text[j + 1];
          j += 2;
        } else {
          word += d;
          j++;
        }
      }
      inWord = true;
      i = j + 1;
    } else if (c === '\\') {
      if (i + 1 >= text.length) throw new Error('a trailing backslash escapes nothing');
      // Backslash-newline is a line continuation, as in a shell.
      if (text[i + 1] !== '\n') {
        word += text[i + 1];
        inWord = true;
      }
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}
