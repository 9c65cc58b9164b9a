import { CardGridSkeleton, KpiSkeleton, PanelSkeleton } from './ui/shared/skeletons';

export default function Loading() {
  return (
    <>
      <div className="page-head"><h1>Fleet overview</h1></div>
      <KpiSkeleton />
      <PanelSkeleton height={360} />
      <CardGridSkeleton />
    </>
  );
}
