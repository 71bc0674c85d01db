// The Verify control of a record's page. In the page, with WebCrypto only (SHA-256 and
// Ed25519), it checks that the record's entry is in the register's Merkle tree (RFC 6962 /
// RFC 9162 inclusion proof), that the tree is the one the register's latest checkpoint
// signs (C2SP signed note, Ed25519), and that the items shown hash to what the entry names.
// Without a checkpoint it checks against the root hash the server publishes, and says so.
(function () {
  'use strict';
  var button = document.getElementById('verify');
  var result = document.getElementById('verify-result');
  if (!button || !result) return;
  var base = button.dataset.base;
  var entry = Number(button.dataset.entry);
  var key = button.dataset.key;
  var items = (button.dataset.items || '').split(' ').filter(Boolean);
  var MAX_ITEMS = 20;
  var utf8 = new TextEncoder();

  function Failure(message) { this.message = message; }

  function fail(message) { throw new Failure(message); }

  function show(message, ok) {
    result.textContent = message;
    result.className = ok ? 'ok' : 'failed';
  }

  async function get(path, what) {
    try {
      return await fetch(base + path, {
        headers: { Accept: 'application/json, text/plain' },
        cache: 'no-store',
        credentials: 'omit'
      });
    } catch (e) {
      return fail('could not fetch ' + what + ' (' + e.message + ')');
    }
  }

  async function text(path, what) {
    var response = await get(path, what);
    if (!response.ok) fail(what + ' answered HTTP ' + response.status);
    return response.text();
  }

  async function json(path, what) {
    var body = await text(path, what);
    try { return JSON.parse(body); } catch (e) { return fail(what + ' is not JSON'); }
  }

  function concat() {
    var n = 0, i, at = 0;
    for (i = 0; i < arguments.length; i++) n += arguments[i].length;
    var out = new Uint8Array(n);
    for (i = 0; i < arguments.length; i++) { out.set(arguments[i], at); at += arguments[i].length; }
    return out;
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  }

  function hex(bytes) {
    return Array.prototype.map.call(bytes, function (b) { return b.toString(16).padStart(2, '0'); }).join('');
  }

  function equal(a, b) {
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  function hash(text, what) {
    var m = /^sha-256:([0-9a-f]{64})$/.exec(typeof text === 'string' ? text : '');
    if (!m) fail(what + ' is not a sha-256 hash');
    var out = new Uint8Array(32);
    for (var i = 0; i < 32; i++) out[i] = parseInt(m[1].substr(2 * i, 2), 16);
    return out;
  }

  function base64(text, what) {
    try {
      return Uint8Array.from(atob(text), function (c) { return c.charCodeAt(0); });
    } catch (e) {
      return fail(what + ' is not base64');
    }
  }

  // RFC 9162 §2.1.3.2: the root an audit path leads to from a leaf.
  async function rootFromPath(leaf, index, size, path) {
    if (index >= size) fail('entry ' + (index + 1) + ' is not in a tree of ' + size + ' entries');
    var fn = index, sn = size - 1, r = leaf;
    for (var i = 0; i < path.length; i++) {
      if (sn === 0) fail('the inclusion proof is longer than the tree allows');
      if (fn % 2 === 1 || fn === sn) {
        r = await sha256(concat([1], path[i], r));
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
        }
      } else {
        r = await sha256(concat([1], r, path[i]));
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    if (sn !== 0) fail('the inclusion proof is shorter than the tree needs');
    return r;
  }

  // A C2SP signed note by the log's key `name+id+base64(0x01 || key)`; other signatures
  // (witnesses, mirrors) are listed as cosigners.
  async function openCheckpoint(note, verifier, origin) {
    var parts = verifier.split('+');
    if (parts.length < 3) fail('the checkpoint key is malformed');
    var name = parts[0], id = parts[1], raw = base64(parts.slice(2).join('+'), 'the checkpoint key');
    if (raw.length !== 33 || raw[0] !== 1) fail('the checkpoint key is not an Ed25519 key');
    var pub = raw.slice(1);
    var keyId = (await sha256(concat(utf8.encode(name), [0x0a, 0x01], pub))).slice(0, 4);
    if (hex(keyId) !== id) fail('the checkpoint key\u2019s ID does not match its name and key');
    var split = note.lastIndexOf('\n\n');
    if (split < 0) fail('the checkpoint is not a signed note');
    var body = note.slice(0, split + 1);
    var lines = body.split('\n');
    if (lines.length < 4 || !/^[0-9]+$/.test(lines[1])) fail('the checkpoint body is malformed');
    if (origin && lines[0] !== origin) fail('the checkpoint is for ' + lines[0] + ', not ' + origin);
    var root = base64(lines[2], 'the checkpoint root');
    if (root.length !== 32) fail('the checkpoint root is not a SHA-256 hash');
    var key;
    try {
      key = await crypto.subtle.importKey('raw', pub, { name: 'Ed25519' }, false, ['verify']);
    } catch (e) {
      fail('this browser cannot check Ed25519 signatures (WebCrypto): ' + e.message);
    }
    var signed = false, cosigners = [];
    var signatures = note.slice(split + 2).split('\n').filter(Boolean);
    for (var i = 0; i < signatures.length; i++) {
      var m = /^\u2014 (\S+) (\S+)$/.exec(signatures[i]);
      if (!m) fail('a signature line of the checkpoint is malformed');
      var sig = base64(m[2], 'a checkpoint signature');
      if (m[1] === name && equal(sig.slice(0, 4), keyId)) {
        if (!await crypto.subtle.verify({ name: 'Ed25519' }, key, sig.slice(4), utf8.encode(body))) {
          fail('the checkpoint\u2019s signature by ' + name + ' does not verify');
        }
        signed = true;
      } else if (m[1] !== name && cosigners.indexOf(m[1]) < 0) {
        cosigners.push(m[1]);
      }
    }
    if (!signed) fail('the checkpoint has no signature by ' + name);
    return { size: Number(lines[1]), root: root, signer: name, cosigners: cosigners };
  }

  async function verify() {
    var summary = await json('/register', 'the register summary');
    var served = await text('/entries/' + entry, 'the entry');
    if (served.charAt(0) !== '[' || served.charAt(served.length - 1) !== ']') fail('the entry is not a one-element array');
    var leafJson = served.slice(1, -1);
    var parsed;
    try { parsed = JSON.parse(leafJson); } catch (e) { fail('the entry is not JSON'); }
    if (parsed.key !== key) fail('entry ' + entry + ' is for the key ' + parsed.key + ', not ' + key);
    var named = Array.isArray(parsed['item-hash']) ? parsed['item-hash'] : [];
    if (named.join(' ') !== items.join(' ')) fail('entry ' + entry + ' names other items than this page shows');
    for (var i = 0; i < Math.min(items.length, MAX_ITEMS); i++) {
      var item = await text('/items/' + items[i], 'item ' + items[i]);
      if ('sha-256:' + hex(await sha256(utf8.encode(item))) !== items[i]) fail('item ' + items[i] + ' does not hash to its name');
    }
    var leaf = await sha256(concat([0], utf8.encode(leafJson)));

    var tree, signed = null;
    var checkpoint = await get('/checkpoint', 'the checkpoint');
    if (checkpoint.ok && summary['checkpoint-key']) {
      signed = await openCheckpoint(await checkpoint.text(), summary['checkpoint-key'], summary.origin);
      tree = { size: signed.size, root: signed.root };
    } else {
      var published = await json('/proof/register/merkle:sha-256', 'the root hash');
      tree = { size: Number(published['total-entries']), root: hash(published['root-hash'], 'the root hash') };
    }
    if (!(entry >= 1 && entry <= tree.size)) fail('entry ' + entry + ' is not in the ' + (signed ? 'checkpoint' : 'tree') + ' of ' + tree.size + ' entries yet; try again shortly');
    var proof = await json('/proof/entry/' + entry + '/' + tree.size + '/merkle:sha-256', 'the inclusion proof');
    if (String(proof['entry-number']) !== String(entry)) fail('the inclusion proof is for another entry');
    var path = (Array.isArray(proof['merkle-audit-path']) ? proof['merkle-audit-path'] : []).map(function (h, n) {
      return hash(h, 'step ' + (n + 1) + ' of the inclusion proof');
    });
    var root = await rootFromPath(leaf, entry - 1, tree.size, path);
    if (!equal(root, tree.root)) {
      fail('the inclusion proof does not lead to the ' + (signed ? 'signed checkpoint\u2019s root' : 'published root hash') + ', so entry ' + entry + ' could not be shown to be in the register');
    }
    var itemsNote = items.length > MAX_ITEMS
      ? ' The first ' + MAX_ITEMS + ' of its ' + items.length + ' items hash to what the entry names.'
      : items.length === 1 ? ' Its item hashes to what the entry names.' : ' Its ' + items.length + ' items hash to what the entry names.';
    if (signed) {
      var cosigned = signed.cosigners.length
        ? ' and cosigned by ' + signed.cosigners.join(', ') + ' (cosignatures listed, not checked: this page does not know their keys)'
        : '; no cosignatures yet';
      return 'Verified: entry ' + entry + ' is in the register of ' + signed.size + ' entries whose checkpoint is signed by ' + signed.signer + cosigned + '.' + itemsNote;
    }
    return 'Verified against the root hash: entry ' + entry + ' is in the register of ' + tree.size + ' entries with root sha-256:' + hex(tree.root) + ' as this server publishes it. No signed checkpoint was available, so nothing shows the register vouched for that root.' + itemsNote;
  }

  button.hidden = false;
  button.addEventListener('click', async function () {
    button.disabled = true;
    show('Verifying…', true);
    result.className = '';
    try {
      show(await verify(), true);
    } catch (e) {
      show('Not verified: ' + (e instanceof Failure ? e.message : 'an unexpected error (' + e + ')') + '.', false);
    } finally {
      button.disabled = false;
    }
  });
})();
