// "Find cameras" on the add-camera form (admins): POST /api/v1/onvif/discover
// lists the ONVIF devices WS-Discovery finds (those already added as a camera
// are marked and link to it); picking one asks for its user name and
// password, POST /api/v1/onvif/probe reads its streams, and onFound(answer,
// credentials, address) fills the form. With more than one profile, two
// lists pick the main and the sub stream's (default: the largest and the
// smallest, as the API chose); each change calls onFound again with
// answer.source, sub_source, profile and sub_profile set from the picks.
// The API's worded errors are shown as they are.
import { api, el, clear } from './ui.js';

const hostOf = (url) => { try { return new URL(url).host; } catch { return url; } };

export function onvifFinder(onFound) {
  const out = el('div', { id: 'onvif-devices', role: 'status', 'aria-live': 'polite' });
  const findBtn = el('button', { class: 'btn', type: 'button', id: 'find-cameras', onclick: find }, 'Find cameras');

  function failure(e, what) {
    return el('div', { class: 'alert alert-error', id: 'onvif-error', role: 'alert' },
      el('strong', null, what), ' ', e.message);
  }

  async function find() {
    findBtn.disabled = true;
    clear(out, el('p', { class: 'muted' }, el('span', { class: 'spinner', 'aria-hidden': 'true' }),
      ' Looking for ONVIF cameras on the local network (3 s)…'));
    try {
      const devices = await api('POST', '/onvif/discover');
      if (!devices.length) {
        clear(out, el('p', { class: 'muted', id: 'onvif-none' },
          'No ONVIF camera answered. Cameras on another subnet, or with discovery turned off, ' +
          'are not found: enter the source below.'));
      } else {
        clear(out, el('ul', { class: 'onvif-list', id: 'onvif-list' }, devices.map(deviceRow)));
      }
    } catch (e) {
      clear(out, failure(e, 'Finding cameras failed:'));
    }
    findBtn.disabled = false;
  }

  function deviceRow(d) {
    const label = [d.manufacturer, d.model].filter(Boolean).join(' ') || 'ONVIF device';
    const li = el('li', { class: 'onvif-device', dataset: { address: d.address } },
      el('span', { class: 'onvif-name' }, el('strong', null, label), ' ',
        el('span', { class: 'muted small' }, hostOf(d.address))), ' ',
      d.camera
        ? el('span', { class: 'badge badge-ok onvif-added' }, 'added as ',
          el('a', { href: `/cameras/${encodeURIComponent(d.camera)}` }, d.camera))
        : null,
      ' ',
      el('button', { class: 'btn btn-small onvif-pick', type: 'button', onclick: () => pick(d, li, label) },
        d.camera ? 'Add again' : 'Use'));
    return li;
  }

  function pick(d, li, label) {
    for (const f of out.querySelectorAll('.onvif-login')) f.remove();
    const user = el('input', { type: 'text', id: 'onvif-username', autocomplete: 'off', spellcheck: 'false',
      value: 'admin' });
    const pass = el('input', { type: 'password', id: 'onvif-password', autocomplete: 'new-password' });
    const result = el('div', { id: 'onvif-probe-result', role: 'status', 'aria-live': 'polite' });
    const go = el('button', { class: 'btn btn-primary btn-small', type: 'submit', id: 'onvif-probe' }, 'Get streams');
    const form = el('form', { class: 'onvif-login', 'aria-label': `Log in to ${label}`, onsubmit: async (ev) => {
      ev.preventDefault();
      go.disabled = true;
      clear(result, el('p', { class: 'muted' }, el('span', { class: 'spinner', 'aria-hidden': 'true' }),
        ` Asking ${hostOf(d.address)} for its streams…`));
      try {
        const body = { address: d.address, username: user.value.trim() || null, password: pass.value || null };
        const answer = await api('POST', '/onvif/probe', body);
        clear(result, el('div', { class: 'alert alert-ok', id: 'onvif-ok' },
          `Filled in from ${[answer.manufacturer, answer.model].filter(Boolean).join(' ') || 'the device'}: ` +
          `${answer.profiles.length} stream${answer.profiles.length === 1 ? '' : 's'}. Check the form and add the camera.`));
        const creds = { username: body.username, password: body.password };
        const tokenOf = (uri) => answer.profiles.find((p) => p.uri === uri)?.token || null;
        const picked = { ...answer, profile: tokenOf(answer.source), sub_profile: tokenOf(answer.sub_source) };
        if (answer.profiles.length > 1) result.append(profilePicker(picked, (a) => onFound(a, creds, d.address)));
        onFound(picked, creds, d.address);
      } catch (e) {
        clear(result, failure(e, 'Reading the camera\'s streams failed:'));
      }
      go.disabled = false;
    } },
    el('div', { class: 'row row-2' },
      el('div', { class: 'field' }, el('label', { for: user.id }, 'Camera user name'), user),
      el('div', { class: 'field' }, el('label', { for: pass.id }, 'Camera password'), pass)),
    el('div', { class: 'toolbar' }, go), result);
    li.append(form);
    pass.focus();
  }

  // The main and sub stream lists: "name: codec W×H" per profile; the sub
  // stream may be none.
  function profilePicker(answer, changed) {
    const label = (p) => `${p.name}: ${p.codec.toUpperCase()} ${p.width}×${p.height}`;
    const options = (selected, none) => [
      none ? el('option', { value: '', selected: !selected }, 'none') : null,
      ...answer.profiles.map((p) => el('option', { value: p.token, selected: p.token === selected }, label(p)))];
    const mainSel = el('select', { id: 'onvif-profile', onchange: pickChanged }, options(answer.profile, false));
    const subSel = el('select', { id: 'onvif-sub-profile', onchange: pickChanged }, options(answer.sub_profile, true));
    function pickChanged() {
      const main = answer.profiles.find((p) => p.token === mainSel.value);
      const sub = answer.profiles.find((p) => p.token === subSel.value) || null;
      changed({ ...answer, source: main.uri, profile: main.token,
        sub_source: sub && sub !== main ? sub.uri : null, sub_profile: sub && sub !== main ? sub.token : null });
    }
    return el('div', { class: 'row row-2', id: 'onvif-profiles' },
      el('div', { class: 'field' }, el('label', { for: mainSel.id }, 'Main stream (recording, full screen)'), mainSel),
      el('div', { class: 'field' }, el('label', { for: subSel.id }, 'Sub stream (grid, analysis)'), subSel));
  }

  return el('fieldset', { id: 'onvif-find' }, el('legend', null, 'Find cameras (ONVIF)'),
    el('div', { class: 'toolbar' }, findBtn, el('span', { class: 'small muted' },
      'Asks the local network which ONVIF cameras are there, then reads the streams of the one you pick.')),
    out);
}
