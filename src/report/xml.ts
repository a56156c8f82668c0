/** Escapes text for XML and HTML attributes and content (JUnit, the HTML report). */
export function esc(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
