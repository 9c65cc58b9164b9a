/** decodeURIComponent that returns the input when it is not valid percent-encoding (instead of throwing). */
export function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
