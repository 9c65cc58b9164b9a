/** SVG path of an annulus sector; angles in radians, 0 = 12 o'clock, clockwise. */
export function arcPath(cx: number, cy: number, r0: number, r1: number, a0: number, a1: number): string {
  const pt = (r: number, a: number) => `${(cx + r * Math.sin(a)).toFixed(2)} ${(cy - r * Math.cos(a)).toFixed(2)}`;
  const large = a1 - a0 > Math.PI ? 1 : 0;
  return [
    `M ${pt(r1, a0)}`,
    `A ${r1} ${r1} 0 ${large} 1 ${pt(r1, a1)}`,
    `L ${pt(r0, a1)}`,
    `A ${r0} ${r0} 0 ${large} 0 ${pt(r0, a0)}`,
    'Z',
  ].join(' ');
}
