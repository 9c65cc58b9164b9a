import { geoConicConformal, geoPath } from 'd3-geo';
import type { Feature, Geometry } from 'geojson';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import statesTopology from 'us-atlas/states-10m.json';
import { MAP_DOTS_MAX, type StationHealth } from '@/app/lib/data';
import type { Health, Station } from '@/app/lib/definitions';
import { fetchFleetHealthOnce, fetchStationsOnce } from '@/app/lib/fleet';
import { arcPath } from '../shared/arc';
import { NoDataYet } from '../shared/empty-state';

const W = 560;
const H = 520;
const TEXAS_FIPS = '48';
const LABEL_MAX = 12; // more stations than this would bury the map in text: names move to tooltips

// The outline comes from us-atlas (Census cartographic boundaries) bundled in node_modules: no tile
// server, so the map renders on an isolated plant network. Projected once per server process.
const geo = (() => {
  const topo = statesTopology as unknown as Topology<{ states: GeometryCollection }>;
  const states = feature(topo, topo.objects.states) as unknown as { features: Feature<Geometry>[] };
  const texas = states.features.find((f) => String(f.id) === TEXAS_FIPS)!;
  // Lambert conformal conic with Texas's standard parallels (as in the Texas Centric LCC system).
  const projection = geoConicConformal().parallels([27.5, 35]).rotate([100, 0]).fitExtent([[12, 12], [W - 12, H - 12]], texas);
  return { projection, outline: geoPath(projection)(texas) ?? '' };
})();

const HEALTH_ORDER: Health[] = ['critical', 'warning', 'down', 'normal', 'unknown'];

export async function TexasMap() {
  const [fleet, stationList] = await Promise.all([fetchFleetHealthOnce(), fetchStationsOnce()]);
  if (!fleet.length) {
    return (
      <section className="panel">
        <h2>Stations</h2>
        <NoDataYet what="stations or compressors" />
      </section>
    );
  }
  const stations = groupByStation(fleet, stationList);
  return (
    <section className="panel" aria-labelledby="map-title">
      <div className="panel__head">
        <h2 id="map-title">Stations in Texas</h2>
        <div className="legend" aria-hidden="true">
          <span><i className="dot dot--normal" />Healthy</span>
          <span><i className="dot dot--warning" />Warning</span>
          <span><i className="dot dot--critical" />Critical</span>
        </div>
      </div>
      <svg className="map" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Map of Texas with ${stations.length} stations`} data-testid="fleet-map">
        <path className="map__land" d={geo.outline} />
        {/* Worst stations drawn last, so an overlapping healthy cluster never hides a critical one. */}
        {[...stations].sort((a, b) => HEALTH_ORDER.indexOf(worstOf(b)) - HEALTH_ORDER.indexOf(worstOf(a))).map((s) => (
          <StationMarker key={s.station_id} station={s} labelled={stations.length <= LABEL_MAX} />
        ))}
      </svg>
    </section>
  );
}

type Unit = { compressor_id: string; health_status: Health };
type StationGroup = Station & { x: number; y: number; total: number; counts: Map<Health, number>; units: Unit[] };

function groupByStation(groups: StationHealth[], stations: Station[]): StationGroup[] {
  const byId = new Map<string, StationGroup>();
  for (const s of stations) {
    const [x, y] = geo.projection([s.longitude, s.latitude]) ?? [W / 2, H / 2];
    byId.set(s.station_id, { ...s, x, y, total: 0, counts: new Map(), units: [] });
  }
  for (const g of groups) {
    const s = byId.get(g.station_id);
    if (!s) continue;
    s.total += g.units;
    s.counts.set(g.health_status, g.units);
    for (const id of g.ids ?? []) s.units.push({ compressor_id: id, health_status: g.health_status });
  }
  for (const s of byId.values()) s.units.sort((a, b) => a.compressor_id.localeCompare(b.compressor_id));
  return [...byId.values()].filter((g) => g.total).sort((a, b) => a.station_id.localeCompare(b.station_id));
}

function worstOf(s: StationGroup): Health {
  return HEALTH_ORDER.find((h) => s.counts.get(h)) ?? 'unknown';
}

function StationMarker({ station: s, labelled }: { station: StationGroup; labelled: boolean }) {
  const worst = worstOf(s);
  const labelLeft = s.x > W * 0.68; // keep east-Texas labels inside the frame
  const lx = labelLeft ? s.x - 26 : s.x + 26;
  const anchor = labelLeft ? 'end' : 'start';
  const counts = HEALTH_ORDER.map((h) => [h, s.counts.get(h) ?? 0] as const);
  return (
    <g data-testid="station-marker" data-station-id={s.station_id} data-health={worst}>
      <title>{`${s.station_name} (${s.basin}): ${counts.filter(([, n]) => n).map(([h, n]) => `${n} ${h}`).join(', ')}`}</title>
      {s.total <= MAP_DOTS_MAX ? (
        s.units.map((u, i) => {
          const a = (2 * Math.PI * i) / s.units.length;
          const r = s.units.length === 1 ? 0 : 15;
          return (
            <a key={u.compressor_id} href={`/monitoring/${encodeURIComponent(u.compressor_id)}`}>
              <circle
                className={`map__unit map__unit--${u.health_status}`}
                cx={s.x + r * Math.sin(a)} cy={s.y - r * Math.cos(a)} r={6}
                data-testid="unit-dot" data-compressor-id={u.compressor_id} data-health={u.health_status}
              >
                <title>{`${u.compressor_id}: ${u.health_status}`}</title>
              </circle>
            </a>
          );
        })
      ) : (
        // A cluster: the donut gives the mix, the centre disc the worst unit's colour and the count.
        <a href={`/monitoring?station=${encodeURIComponent(s.station_id)}`} data-testid="station-cluster" data-units={s.total}>
          <HealthDonut x={s.x} y={s.y} counts={counts} total={s.total} />
          <circle className={`map__unit map__unit--${worst}`} cx={s.x} cy={s.y} r={8.5} />
          <text className="map__count" x={s.x} y={s.y + 3.5} textAnchor="middle">{s.total}</text>
        </a>
      )}
      {/* City as the label (station names are long); the full name is in the tooltip and the cards. */}
      {labelled ? (
        <>
          <text className="map__label" x={lx} y={s.y - 2} textAnchor={anchor} data-testid="station-label">{s.city}</text>
          <text className="map__sublabel" x={lx} y={s.y + 12} textAnchor={anchor}>
            {`${s.basin} · ${s.total} unit${s.total === 1 ? '' : 's'}`}
          </text>
        </>
      ) : null}
    </g>
  );
}

function HealthDonut({ x, y, counts, total }: { x: number; y: number; counts: (readonly [Health, number])[]; total: number }) {
  let a = 0;
  return (
    <>
      {counts.filter(([, n]) => n > 0).map(([h, n]) => {
        const a0 = a;
        a += (2 * Math.PI * n) / total;
        // A full circle cannot be drawn as one arc: stop a hair short.
        return <path key={h} className={`map__unit map__unit--${h}`} d={arcPath(x, y, 9, 19, a0, Math.min(a, a0 + 2 * Math.PI - 1e-3))} />;
      })}
    </>
  );
}
