// The demo page: a log-in form, the roster with presence, a chat box. Everything XMPP
// is in the wasm module (JabberClient); this file only moves records into the page.
import init, { JabberClient } from './pkg/jabber_wasm.js';

const $ = (id) => document.getElementById(id);
const status = (state, text) => {
  $('status').dataset.state = state;
  $('status').textContent = text;
};

let client = null;
const contacts = new Map(); // bare jid -> {name, subscription, show, status}

function bare(jid) {
  const slash = jid.indexOf('/');
  return slash < 0 ? jid : jid.slice(0, slash);
}

function note(text) {
  const li = document.createElement('li');
  li.className = 'note';
  li.textContent = text;
  $('log').append(li);
}

function line(direction, who, text) {
  const li = document.createElement('li');
  li.className = direction;
  li.dataset.peer = who;
  const w = document.createElement('span');
  w.className = 'who';
  w.textContent = who;
  const t = document.createElement('span');
  t.className = 'text';
  t.textContent = text;
  li.append(w, t);
  $('log').append(li);
  $('log').scrollTop = $('log').scrollHeight;
}

function drawRoster() {
  const ul = $('roster');
  ul.replaceChildren();
  for (const [jid, c] of [...contacts].sort()) {
    const li = document.createElement('li');
    li.dataset.jid = jid;
    li.dataset.show = c.show ?? 'offline';
    li.title = `subscription: ${c.subscription}`;
    li.textContent = c.name ?? jid;
    if (c.status) {
      const s = document.createElement('span');
      s.className = 'status';
      s.textContent = c.status;
      li.append(s);
    }
    li.addEventListener('click', () => { $('to').value = jid; $('body').focus(); });
    ul.append(li);
  }
}

function onEvent(e) {
  switch (e.kind) {
    case 'online':
      status('online', `online as ${e.jid}`);
      $('login').hidden = true;
      $('session').hidden = false;
      break;
    case 'roster': {
      const old = new Map(contacts);
      contacts.clear();
      for (const item of e.items) {
        const was = old.get(item.jid) ?? {};
        contacts.set(item.jid, { ...item, show: was.show, status: was.status });
      }
      drawRoster();
      break;
    }
    case 'presence': {
      const c = contacts.get(bare(e.from));
      if (c) {
        c.show = e.available ? (e.show ?? 'available') : 'offline';
        c.status = e.available ? e.status : undefined;
        drawRoster();
      }
      break;
    }
    case 'message':
      line('in', e.from, e.body);
      break;
    case 'subscription':
      if (e.type === 'request') {
        // The demo trusts everyone: approve, and ask for the contact's presence in
        // turn unless we see it already.
        client.approve(e.from);
        const c = contacts.get(e.from);
        const sees = c && (c.subscription === 'to' || c.subscription === 'both');
        if (!sees) client.subscribe(e.from);
        note(`${e.from} asks to see your presence: approved${sees ? '' : ', and asked back'}`);
      } else {
        note(`${e.from}: subscription ${e.type}`);
      }
      break;
    case 'loginFailed':
      status('failed', `login failed: ${e.error}`);
      break;
    case 'error':
      note(`error${e.from ? ' from ' + e.from : ''}: ${e.error}`);
      break;
    case 'closed':
      if ($('status').dataset.state !== 'failed') status('closed', `closed: ${e.reason}`);
      if (e.seeOtherUri) {
        // RFC 7395: log in there instead (the module passes on only ws:/wss: URLs, and
        // never ws: from wss:). The user types the password again for the new server,
        // and opts in to an unencrypted one again.
        $('url').value = e.seeOtherUri;
        $('password').value = '';
        $('insecure').checked = false;
        note(`the server sends you to ${e.seeOtherUri}: log in again there`);
      }
      $('login').hidden = false;
      $('session').hidden = true;
      $('connect').disabled = false;
      break;
  }
}

$('login').addEventListener('submit', (ev) => {
  ev.preventDefault();
  try {
    const url = $('url').value.trim();
    client?.free(); // the last session, over: its socket and timer go with it
    client = new JabberClient({
      url,
      jid: $('jid').value.trim(),
      password: $('password').value,
      // Only the user's explicit choice allows an unencrypted ws:// server, never the
      // URL itself (which a redirect or a link's query string may have set).
      allowInsecure: $('insecure').checked,
    });
    client.onEvent(onEvent);
    client.connect();
    $('connect').disabled = true;
    status('connecting', 'connecting…');
  } catch (err) {
    status('failed', String(err.message ?? err));
  }
});

$('compose').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const to = $('to').value.trim();
  const body = $('body').value;
  try {
    client.send(to, body);
    line('out', to, body);
    $('body').value = '';
  } catch (err) {
    note(`not sent: ${err.message ?? err}`);
  }
});

$('presence').addEventListener('submit', (ev) => {
  ev.preventDefault();
  try {
    client.setPresence($('show').value, $('status-text').value || undefined);
  } catch (err) {
    note(`presence not set: ${err.message ?? err}`);
  }
});

$('add').addEventListener('submit', (ev) => {
  ev.preventDefault();
  try {
    client.subscribe($('contact').value.trim());
    $('contact').value = '';
  } catch (err) {
    note(`not added: ${err.message ?? err}`);
  }
});

$('logout').addEventListener('click', () => client?.close());

// Defaults from the query string (?url=ws://...&jid=...), for a quick start.
const query = new URLSearchParams(location.search);
for (const id of ['url', 'jid']) {
  if (query.has(id)) $(id).value = query.get(id);
}

try {
  await init();
  status('offline', 'offline');
  $('connect').disabled = false;
} catch (err) {
  status('failed', `the wasm module did not load: ${err}`);
}
