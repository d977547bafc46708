// The Agora web UI: hash routes (#/agents, #/frameworks/ID/tasks/ID/stdout,
// ...), one poll of the master's /state every few seconds feeding whichever
// page is shown, and a status light in the top bar.

import { getJson } from './api.js';
import { h, replaceChildren } from './dom.js';
import { time } from './format.js';
import * as overview from './pages/overview.js';
import * as agents from './pages/agents.js';
import * as frameworks from './pages/frameworks.js';
import * as tasks from './pages/tasks.js';
import * as roles from './pages/roles.js';
import * as logs from './pages/logs.js';
import { notice } from './widgets.js';

const POLL_MS = 3000;

// [pattern, section, page module, extra params]; ':x' segments are params.
const ROUTES = [
  ['', 'overview', overview],
  ['agents', 'agents', agents.list],
  ['agents/:agentId', 'agents', agents.detail],
  ['frameworks', 'frameworks', frameworks.list],
  ['frameworks/:frameworkId', 'frameworks', frameworks.detail],
  ['frameworks/:frameworkId/tasks/:taskId', 'tasks', tasks.detail],
  ['frameworks/:frameworkId/tasks/:taskId/:file', 'tasks', logs],
  ['tasks', 'tasks', tasks.list],
  ['tasks/:taskId', 'tasks', tasks.detail],
  ['tasks/:taskId/:file', 'tasks', logs],
  ['roles', 'roles', roles],
];

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path] = raw.split('?');
  const segments = path.split('/').filter((p) => p !== '');
  try {
    return segments.map((p) => decodeURIComponent(p));
  } catch (e) {
    return null;  // Bad percent-encoding: no route matches.
  }
}

function match(segments) {
  if (segments === null) return null;
  for (const [pattern, section, page] of ROUTES) {
    const parts = pattern === '' ? [] : pattern.split('/');
    if (parts.length !== segments.length) continue;
    const params = {};
    let ok = true;
    parts.forEach((part, i) => {
      if (part.startsWith(':')) params[part.slice(1)] = segments[i];
      else if (part !== segments[i]) ok = false;
    });
    if (ok) return { section, page, params };
  }
  return null;
}

class App {
  constructor() {
    this.view = document.getElementById('view');
    this.store = { state: null, stateResult: null, roles: null, updatedAt: null };
    this.page = null;
    this.needs = new Set();
    this.timer = null;
    window.addEventListener('hashchange', () => this.navigate());
  }

  start() {
    this.navigate();
    this.poll();
  }

  navigate() {
    if (this.page && this.page.dispose) this.page.dispose();
    const found = match(parseHash());
    for (const a of document.querySelectorAll('#nav a')) {
      a.classList.toggle('active', !!found && a.dataset.section === found.section);
    }
    if (!found) {
      this.page = null;
      replaceChildren(this.view, h('div', { class: 'page-header' }, h('h1', {}, 'Not found')),
        notice('There is no such page.', 'muted'), h('p', {}, h('a', { href: '#/' }, 'Back to the overview')));
      return;
    }
    this.page = found.page.create(found.params, this);
    this.needs = new Set(this.page.needs || []);
    replaceChildren(this.view, this.page.node);
    this.view.dataset.page = found.section;
    document.title = `${found.section.charAt(0).toUpperCase()}${found.section.slice(1)} · Agora`;
    window.scrollTo(0, 0);
    if (this.store.state) this.render();
    if (this.needs.has('roles') && !this.store.roles) this.poll();
  }

  render() {
    if (this.page) this.page.update(this.store);
    this.view.dataset.state = this.store.state ? 'ready' : 'loading';
  }

  async poll() {
    clearTimeout(this.timer);
    const requests = [getJson('state')];
    const wantRoles = this.needs.has('roles');
    if (wantRoles) requests.push(getJson('roles'));
    const [state, rolesResult] = await Promise.all(requests);
    this.store.stateResult = state;
    if (state.ok) {
      this.store.state = state.data;
      this.store.updatedAt = Date.now() / 1000;
    }
    if (wantRoles) this.store.roles = rolesResult;
    this.showStatus(state);
    this.render();
    this.timer = setTimeout(() => this.poll(), POLL_MS);
  }

  showStatus(result) {
    const status = document.getElementById('status');
    const text = document.getElementById('status-text');
    status.classList.toggle('ok', result.ok);
    status.classList.toggle('error', !result.ok);
    text.textContent = result.ok
      ? `Live · updated ${time(this.store.updatedAt).slice(11)}`
      : `${result.error || 'Error'} · retrying`;
    const st = this.store.state;
    const footer = document.getElementById('footer');
    if (st) {
      replaceChildren(footer,
        `Agora ${st.version || ''} · master ${st.id || ''} on ${st.hostname || ''} · `,
        `started ${time(st.start_time)}`);
    }
  }
}

new App().start();
