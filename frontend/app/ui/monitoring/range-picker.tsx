import Link from 'next/link';
import { RANGE_PRESETS, type RangePreset } from '@/app/lib/validation';

/** Time range as links that rewrite ?range=, so the choice is in the URL and survives reloads. */
export function RangePicker({ basePath, current }: { basePath: string; current: RangePreset }) {
  return (
    <nav className="segmented" aria-label="Time range" data-testid="range-picker">
      {(Object.keys(RANGE_PRESETS) as RangePreset[]).map((r) => (
        <Link key={r} href={`${basePath}?range=${r}`} aria-current={r === current ? 'true' : undefined} scroll={false}>
          {r}
        </Link>
      ))}
    </nav>
  );
}
