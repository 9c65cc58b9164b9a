import { PanelSkeleton, TableSkeleton } from '@/app/ui/shared/skeletons';

export default function Loading() {
  return (
    <>
      <div className="page-head"><h1>Data quality</h1></div>
      <TableSkeleton rows={4} />
      <PanelSkeleton height={230} />
    </>
  );
}
