import { PanelSkeleton } from '@/app/ui/shared/skeletons';

export default function Loading() {
  return (
    <>
      <div className="page-head"><h1>Compressor</h1></div>
      <div className="gauge-grid">{Array.from({ length: 5 }, (_, i) => <PanelSkeleton key={i} height={190} />)}</div>
      <div className="chart-grid"><PanelSkeleton height={230} /><PanelSkeleton height={230} /></div>
    </>
  );
}
