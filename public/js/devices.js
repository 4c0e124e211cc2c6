/** The phone's "Linked devices" list, with a sign-out button per device. */
import { api } from './api.js';
import { h, show } from './dom.js';
import { t } from './i18n.js';
import { agentText } from './ua.js';

export function linkedDevices(store, onSignedOut) {
  const list = h('ul', { class: 'devices' });
  const note = h('p', { class: 'hint', 'aria-live': 'polite' });
  const section = h(
    'section',
    { class: 'card', 'aria-labelledby': 'devices-title' },
    h('h2', { id: 'devices-title' }, t.devices),
    list,
    note,
  );

  async function load() {
    const res = await api('/api/sessions', { token: store.get() }).catch(() => null);
    if (!res?.ok) return;
    show(
      list,
      res.body.map((d) => {
        const agent = agentText(d.user_agent);
        const when = new Date(d.created_at.endsWith('Z') ? d.created_at : `${d.created_at}Z`).toLocaleString();
        return h(
          'li',
          {},
          h(
            'div',
            {},
            h('strong', {}, agent),
            d.current ? h('span', { class: 'tag' }, t.thisDevice) : null,
            h('br'),
            h(
              'small',
              {},
              [d.via === 'qrcode' ? t.viaQr : t.viaPassword, d.ip, d.place, when].filter(Boolean).join(' · '),
            ),
          ),
          h(
            'button',
            {
              type: 'button',
              'aria-label': `${t.signOut}: ${agent}${d.current ? ` (${t.thisDevice})` : ''}`,
              onclick: async () => {
                const out = await api(`/api/sessions/${d.sid}`, { method: 'DELETE', token: store.get() }).catch(
                  () => null,
                );
                if (out?.status === 204) note.textContent = t.deviceSignedOut;
                if (d.current) return onSignedOut();
                load();
              },
            },
            t.signOut,
          ),
        );
      }),
    );
  }
  load();
  return { section, load };
}
