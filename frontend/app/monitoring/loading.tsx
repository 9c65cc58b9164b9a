import { TableSkeleton } from '@/app/ui/shared/skeletons';

export default function Loading() {
  return (
    <>
      <div className="page-head"><h1>Monitoring</h1></div>
      <TableSkeleton rows={10} />
    </>
  );
}
