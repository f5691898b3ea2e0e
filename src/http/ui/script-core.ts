/**
 * The web console's script (`/ui/console.js`), part 1: DOM and API helpers, the token form.
 * Text only, served by routes/ui.ts. It is a String.raw template: no backticks or dollar-braces inside.
 */
export const SCRIPT_CORE = String.raw`// GopherPost web console. Talks only to this daemon's own /api and /audit, with
// the admin token (if any) from sessionStorage as a Bearer header.
'use strict';

const TOKEN_KEY = 'gopherpost.adminToken';
const $ = (selector) => document.querySelector(selector);

/** An element with attributes and children; text goes in as text nodes, never as HTML. */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === 'onclick') node.addEventListener('click', value);
    else if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null) continue;
    node.append(typeof child === 'string' || typeof child === 'number' ? String(child) : child);
  }
  return node;
}

function authHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: 'Bearer ' + token } : {};
}

class Unauthorized extends Error {}

/** fetch with the token; 401 shows the sign-in form, other errors carry the daemon's message. */
async function api(method, path, body) {
  const headers = authHeaders();
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const init = { method, headers, cache: 'no-store' };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(path, init);
  if (res.status === 401) {
    showLogin('The daemon asks for its admin token (SMTP_ADMIN_TOKEN).');
    throw new Unauthorized('unauthorized');
  }
  if (!res.ok) {
    let message = res.status + ' ' + res.statusText;
    try {
      const data = await res.json();
      if (data && typeof data.error === 'string') message = data.error;
    } catch (_) {
      // not JSON: keep the status line
    }
    throw new Error(message);
  }
  return res;
}

async function apiJson(method, path, body) {
  return (await api(method, path, body)).json();
}

function setStatus(text, isError) {
  const status = $('#status');
  status.textContent = text;
  status.className = isError ? 'error' : '';
}

function reportError(error) {
  if (error instanceof Unauthorized) return;
  setStatus(String(error && error.message ? error.message : error), true);
}

function showLogin(reason) {
  $('#login-reason').textContent = reason;
  $('#login').hidden = false;
  $('#console').hidden = true;
}

function setupLogin(start) {
  $('#login').addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('#token').value.trim());
    $('#token').value = '';
    $('#login').hidden = true;
    $('#console').hidden = false;
    start();
  });
  $('#signout').hidden = !sessionStorage.getItem(TOKEN_KEY);
  $('#signout').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    location.reload();
  });
}

function age(seconds) {
  if (seconds === null || seconds === undefined) return '';
  if (seconds < 60) return seconds + 's';
  if (seconds < 3600) return Math.floor(seconds / 60) + 'm ' + (seconds % 60) + 's';
  if (seconds < 86400) return Math.floor(seconds / 3600) + 'h ' + Math.floor((seconds % 3600) / 60) + 'm';
  return Math.floor(seconds / 86400) + 'd ' + Math.floor((seconds % 86400) / 3600) + 'h';
}

function localTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** Runs work once calls stop coming for ms milliseconds. */
function debounce(work, ms) {
  let timer;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(work, ms);
  };
}
`;
