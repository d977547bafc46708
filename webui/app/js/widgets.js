// Small building blocks shared by the pages: panels, tables, badges,
// key/value lists and notices.

import { h, link, replaceChildren } from './dom.js';
import { stateLabel, stateTone } from './format.js';

export function pageHeader(title, subtitle, ...extra) {
  return h('div', { class: 'page-header' },
    h('div', {}, h('h1', {}, title), subtitle ? h('p', { class: 'subtitle' }, subtitle) : null),
    extra.length ? h('div', { class: 'page-actions' }, extra) : null);
}

export function panel(title, body, props = {}) {
  return h('section', { ...props, class: ['panel', props.class] },
    title ? h('h2', { class: 'panel-title' }, title) : null,
    body);
}

export function badge(text, tone = 'muted') {
  return h('span', { class: `badge badge-${tone}` }, text);
}

export function stateBadge(state) {
  return h('span', { class: `badge badge-${stateTone(state)}`, title: state || '' }, stateLabel(state));
}

export function notice(text, tone = 'info') {
  return h('p', { class: `notice notice-${tone}` }, text);
}

// "not available": the master (or agent) does not serve this endpoint (404).
export function unavailable(what, result) {
  if (result && result.missing) return notice(`${what}: not available (this master does not serve it).`, 'muted');
  return notice(`${what}: ${result && result.error ? result.error : 'failed'}`, 'error');
}

// columns: [{label, value: row => node|string, class?, sort?}]
export function table(columns, rows, { empty = 'Nothing to show', id = null, rowProps = null } = {}) {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'table', id },
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: c.class }, c.label)))),
      h('tbody', {}, rows.map((row) =>
        h('tr', rowProps ? rowProps(row) : {}, columns.map((c) => h('td', { class: c.class }, c.value(row))))))));
}

// [[label, value], ...] as a definition list.
export function facts(pairs) {
  return h('dl', { class: 'facts' },
    pairs.filter(Boolean).map(([label, value]) => [h('dt', {}, label), h('dd', {}, value ?? '–')]));
}

export function mono(text) {
  return h('code', { class: 'mono' }, text ?? '');
}

export function idLink(parts, id) {
  return link(parts, String(id ?? ''), { class: 'mono id', title: String(id ?? '') });
}

// Links to a task's stdout and stderr viewers.
export function logLinks(frameworkId, taskId) {
  return h('span', { class: 'links' },
    link(['frameworks', frameworkId, 'tasks', taskId, 'stdout'], 'stdout'), ' ',
    link(['frameworks', frameworkId, 'tasks', taskId, 'stderr'], 'stderr'));
}

// A count with a label, as on the overview; `key` lets tests find it.
export function stat(label, value, key, tone = '') {
  return h('div', { class: ['stat', tone && `stat-${tone}`] },
    h('div', { class: 'stat-value', dataset: { count: key } }, String(value)),
    h('div', { class: 'stat-label' }, label));
}

// A thin horizontal meter, 0..1.
export function meter(fraction, title = '') {
  const pct = Math.max(0, Math.min(1, fraction || 0)) * 100;
  return h('span', { class: 'meter', title },
    h('span', { class: 'meter-fill', style: { width: `${pct.toFixed(1)}%` } }));
}

// A page that renders itself from scratch on every update:
// render(store, params) -> Node.
export function simplePage(render, needs = []) {
  return {
    create(params) {
      const node = h('div', { class: 'page' }, h('p', { class: 'loading' }, 'Loading…'));
      return {
        node,
        needs,
        update(store) {
          replaceChildren(node, render(store, params));
        },
      };
    },
  };
}
