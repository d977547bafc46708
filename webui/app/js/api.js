// Talking to the master. Every call resolves (never rejects) to
//   {ok: true, data}                         on success,
//   {ok: false, missing: true, status: 404}  when the endpoint does not exist,
//   {ok: false, status, error}               otherwise,
// so that pages can say "not available" instead of breaking.

const TIMEOUT_MS = 8000;

export async function getJson(path) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  try {
    const response = await fetch(path, {
      signal: controller.signal,
      cache: 'no-store',
      headers: { Accept: 'application/json' },
    });
    const text = await response.text();
    if (!response.ok) {
      return {
        ok: false,
        status: response.status,
        missing: response.status === 404,
        error: text.trim().slice(0, 300) || response.statusText || `HTTP ${response.status}`,
      };
    }
    try {
      return { ok: true, status: response.status, data: JSON.parse(text) };
    } catch (e) {
      return { ok: false, status: response.status, error: `Invalid JSON from ${path}` };
    }
  } catch (e) {
    const error = e && e.name === 'AbortError' ? 'timed out' : 'unreachable';
    return { ok: false, status: 0, error: `The master is ${error}` };
  } finally {
    clearTimeout(timer);
  }
}

// The master's proxy to an agent's read-only endpoints (AgentProxy).
export function agentPath(agentId, endpoint, query = {}) {
  const search = new URLSearchParams(query).toString();
  return `agent/${encodeURIComponent(agentId)}/${endpoint}${search ? `?${search}` : ''}`;
}
