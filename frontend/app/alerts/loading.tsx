import { SkeletonBlock, TableSkeleton } from '@/app/ui/shared/skeletons';

export default function Loading() {
  return (
    <>
      <div className="page-head"><h1>Alerts</h1></div>
      <SkeletonBlock height={58} />
      <TableSkeleton rows={8} />
    </>
  );
}
