/** Placeholders with the shape of the widget they stand in for, so the layout does not jump. */

export function SkeletonBlock({ height = 120, className = '' }: { height?: number; className?: string }) {
  return <div className={`skeleton ${className}`} style={{ height }} aria-hidden="true" />;
}

export function KpiSkeleton() {
  return (
    <div className="kpis" aria-busy="true" aria-label="Loading fleet KPIs">
      {Array.from({ length: 6 }, (_, i) => (
        <SkeletonBlock key={i} height={86} />
      ))}
    </div>
  );
}

export function CardGridSkeleton({ count = 8 }: { count?: number }) {
  return (
    <div className="card-grid" aria-busy="true" aria-label="Loading">
      {Array.from({ length: count }, (_, i) => (
        <SkeletonBlock key={i} height={150} />
      ))}
    </div>
  );
}

export function TableSkeleton({ rows = 6 }: { rows?: number }) {
  return (
    <div className="panel" aria-busy="true" aria-label="Loading table">
      {Array.from({ length: rows }, (_, i) => (
        <SkeletonBlock key={i} height={28} className="skeleton--row" />
      ))}
    </div>
  );
}

export function PanelSkeleton({ height = 320 }: { height?: number }) {
  return (
    <div className="panel" aria-busy="true" aria-label="Loading">
      <SkeletonBlock height={height} />
    </div>
  );
}
