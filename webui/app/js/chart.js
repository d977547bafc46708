// Inline SVG charts: stacked bars of allocated / offered / idle resources,
// and a donut of tasks by state.

import { s, h } from './dom.js';
import { RESOURCES, scalar, number, stateLabel, stateTone } from './format.js';

const WIDTH = 640;
const ROW = 46;
const LABEL = 92;
const VALUE = 150;

export const SERIES = [
  { key: 'allocated', label: 'Allocated', tone: 'allocated' },
  { key: 'offered', label: 'Offered', tone: 'offered' },
  { key: 'idle', label: 'Idle', tone: 'idle' },
];

// cluster: {total, allocated, offered, idle} from model.clusterResources.
export function resourceBars(cluster) {
  const rows = RESOURCES.filter((r) => r.name !== 'gpus' || scalar(cluster.total, 'gpus') > 0);
  const height = rows.length * ROW + 8;
  const barWidth = WIDTH - LABEL - VALUE;
  const svg = s('svg', {
    class: 'chart', viewBox: `0 0 ${WIDTH} ${height}`, role: 'img',
    'aria-label': 'Cluster resources: allocated, offered and idle',
  });
  rows.forEach((r, i) => {
    const y = i * ROW + 8;
    const total = scalar(cluster.total, r.name);
    svg.appendChild(s('text', { x: 0, y: y + 19, class: 'chart-label' }, r.label));
    svg.appendChild(s('rect', { x: LABEL, y: y + 4, width: barWidth, height: 22, rx: 4, class: 'bar-bg' }));
    let x = LABEL;
    for (const series of SERIES) {
      const value = scalar(cluster[series.key], r.name);
      if (total <= 0 || value <= 0) continue;
      const w = Math.max(1, (value / total) * barWidth);
      svg.appendChild(s('rect', { x, y: y + 4, width: w, height: 22, class: `bar-${series.tone}` },
        s('title', {}, `${series.label}: ${r.format(value)}`)));
      x += w;
    }
    const used = scalar(cluster.allocated, r.name);
    const pct = total > 0 ? ` (${number((used / total) * 100, 0)}%)` : '';
    svg.appendChild(s('text', { x: WIDTH, y: y + 19, class: 'chart-value', 'text-anchor': 'end' },
      total > 0 ? `${r.format(used)} / ${r.format(total)}${pct}` : 'none'));
  });
  return svg;
}

export function legend(items) {
  return h('div', { class: 'legend' },
    items.map((item) => h('span', { class: 'legend-item' },
      h('span', { class: `swatch swatch-${item.tone}` }), item.label)));
}

// counts: {TASK_RUNNING: 3, ...}
export function stateDonut(counts) {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  const size = 120;
  const r = 46;
  const c = 2 * Math.PI * r;
  const svg = s('svg', { class: 'donut', viewBox: `0 0 ${size} ${size}`, role: 'img', 'aria-label': 'Tasks by state' });
  svg.appendChild(s('circle', { cx: size / 2, cy: size / 2, r, class: 'donut-bg' }));
  let offset = 0;
  for (const [state, n] of entries) {
    const length = (n / total) * c;
    svg.appendChild(s('circle', {
      cx: size / 2, cy: size / 2, r, class: `donut-seg tone-${stateTone(state)}`,
      'stroke-dasharray': `${length} ${c - length}`, 'stroke-dashoffset': -offset,
      transform: `rotate(-90 ${size / 2} ${size / 2})`,
    }, s('title', {}, `${stateLabel(state)}: ${n}`)));
    offset += length;
  }
  svg.appendChild(s('text', { x: size / 2, y: size / 2 + 2, class: 'donut-total', 'text-anchor': 'middle' }, String(total)));
  svg.appendChild(s('text', { x: size / 2, y: size / 2 + 18, class: 'donut-caption', 'text-anchor': 'middle' }, 'tasks'));
  return svg;
}
