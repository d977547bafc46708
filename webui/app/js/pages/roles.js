// #/roles: weight, quota (guarantee and limit), allocated, offered and
// reserved resources and the dominant share of every role, from the
// master's /roles (Mesos's shape). Without /roles (404) it says so and
// lists the roles the frameworks in /state subscribe to.

import { h } from '../dom.js';
import { number, resources } from '../format.js';
import { arr, clusterResources, dominantShare } from '../model.js';
import { badge, meter, notice, pageHeader, panel, simplePage, table, unavailable } from '../widgets.js';

function quotaText(q) {
  if (!q || typeof q !== 'object' || !Object.keys(q).length) return '–';
  return resources(q);
}

function share(role, total) {
  for (const key of ['dominant_share', 'share']) {
    if (typeof role[key] === 'number') return { share: role[key], resource: role.dominant_resource || null };
  }
  return dominantShare(role.allocated || role.resources, total);
}

function shareCell({ share: value, resource }) {
  return h('div', { class: 'usage' },
    meter(value, resource ? `dominant resource: ${resource}` : ''),
    h('span', { class: 'usage-text' }, `${number(value * 100, 1)}%${resource ? ` ${resource}` : ''}`));
}

function fromState(state) {
  const roles = new Map();
  for (const f of arr(state.frameworks)) {
    for (const r of arr(f.roles)) {
      if (!roles.has(r)) roles.set(r, []);
      roles.get(r).push(f.name || f.id);
    }
  }
  return [...roles.entries()].map(([name, frameworks]) => ({ name, frameworks }));
}

function render(store) {
  const result = store.roles;
  const total = clusterResources(store.state).total;
  if (!result) return h('div', {}, pageHeader('Roles', 'Weights, quota and shares'), h('p', { class: 'loading' }, 'Loading…'));
  if (!result.ok) {
    return h('div', {},
      pageHeader('Roles', 'Weights, quota and shares'),
      unavailable('Roles (/roles)', result),
      panel('Roles of subscribed frameworks (from /state)', table([
        { label: 'Role', value: (r) => badge(r.name, 'role') },
        { label: 'Frameworks', value: (r) => r.frameworks.join(', ') },
      ], fromState(store.state), { empty: 'No framework subscribes to a role' })));
  }
  const roles = Array.isArray(result.data) ? result.data : arr(result.data.roles);
  return h('div', {},
    pageHeader('Roles', `${roles.length} roles · weights, quota and dominant shares`),
    panel(null, table([
      { label: 'Role', value: (r) => badge(r.name || r.role || '*', 'role') },
      { label: 'Weight', class: 'num', value: (r) => number(r.weight ?? 1, 2) },
      { label: 'Frameworks', class: 'num', value: (r) => String(arr(r.frameworks).length) },
      { label: 'Allocated', value: (r) => resources(r.allocated || r.resources) },
      { label: 'Offered', value: (r) => resources(r.offered) },
      { label: 'Reserved', value: (r) => resources(r.reserved) },
      { label: 'Quota guarantee', value: (r) => quotaText(r.quota && r.quota.guarantee) },
      { label: 'Quota limit', value: (r) => quotaText(r.quota && r.quota.limit) },
      { label: 'Dominant share', value: (r) => shareCell(share(r, total)) },
    ], roles, { empty: 'No roles yet', id: 'roles-table' })),
    notice('The dominant share is the largest fraction of the cluster\'s total of any one resource that the role is allocated; DRF offers next to the role with the lowest share (weighted).', 'muted'));
}

export const { create } = simplePage(render, ['roles']);
