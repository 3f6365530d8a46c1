// The lobby: nickname, quick play, create-a-match forms, the live list of matches.
import { api } from "./api.js";

const config = JSON.parse(document.getElementById("lobby-config").textContent);
let player = config.player;
const POLL_MS = 2000;
const RESULTS_EVERY = 5; // refresh the results every fifth poll (10 s)
const QUICKPLAY_ASK_MS = 1000; // the queue forgets a player who stops asking for ~4 s

const nickForm = document.getElementById("nick-form");
const nickInput = document.getElementById("nick");
const nickStatus = document.getElementById("nick-status");
const body = document.getElementById("matches-body");
const empty = document.getElementById("matches-empty");

const go = (id) => location.assign(`/m/${encodeURIComponent(id)}/`);
const STATUS_LABELS = { waiting: "Waiting for players", countdown: "Starting", running: "Live" };

function requirePlayer() {
  if (player) return true;
  nickStatus.textContent = "Pick a nickname first.";
  nickInput.focus();
  return false;
}

// The header's "Playing as": a visitor who just picked a nickname becomes a guest.
function showWho(me) {
  const name = document.getElementById("who-name");
  if (name) {
    name.textContent = me.display_name;
    return;
  }
  const link = document.createElement("a");
  link.href = `/players/${me.id}/`;
  const strong = document.createElement("strong");
  strong.id = "who-name";
  strong.textContent = me.display_name;
  link.append(strong);
  const guest = document.createElement("small");
  guest.textContent = "(guest)";
  const account = document.getElementById("who-account");
  account.textContent = "Sign up or log in";
  document.querySelector("header .who").replaceChildren("Playing as ", link, " ", guest, " · ", account);
}

nickForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  nickStatus.textContent = "Saving…";
  try {
    ({ player } = await api.rename(nickInput.value));
    nickInput.value = player.display_name;
    nickStatus.textContent = `Hello, ${player.display_name}!`;
    nickForm.querySelector("button").textContent = "Rename";
    document.body.dataset.player = player.display_name;
    showWho(player);
  } catch (err) {
    nickStatus.textContent = err.message;
  }
});

// --- quick play ------------------------------------------------------------------------------

let search = null; // {title, button, status, timer}

function stopSearch({ cancel = true } = {}) {
  if (!search) return;
  clearTimeout(search.timer);
  if (cancel) api.quickplayCancel(search.title).catch(() => {});
  search.button.textContent = "Quick play";
  search.button.setAttribute("aria-pressed", "false");
  search.status.textContent = "";
  search = null;
}

async function ask() {
  const current = search;
  if (!current) return;
  try {
    const { ticket } = await api.quickplay(current.title);
    if (search !== current) return;
    if (ticket.status === "matched") {
      current.status.textContent = ticket.with_bots ? "Nobody around: you play against bots." : "Opponent found!";
      go(ticket.match);
      return;
    }
    const left = Math.max(0, ticket.bots_after_s - ticket.waited_s);
    current.status.textContent = `Looking for an opponent… bots in ${Math.ceil(left)} s`;
  } catch (err) {
    if (search !== current) return;
    current.status.textContent = err.message;
    stopSearch({ cancel: false });
    return;
  }
  current.timer = setTimeout(ask, QUICKPLAY_ASK_MS);
}

function startSearch(title) {
  if (!requirePlayer()) return;
  stopSearch();
  const card = document.querySelector(`.card[data-title="${title}"]`);
  const button = card.querySelector("button.quick");
  search = { title, button, status: card.querySelector(".qp-status"), timer: null };
  button.textContent = "Cancel";
  button.setAttribute("aria-pressed", "true");
  search.status.textContent = "Looking for an opponent…";
  ask();
}

for (const button of document.querySelectorAll("button.quick")) {
  button.addEventListener("click", () => {
    if (search && search.title === button.dataset.title) stopSearch();
    else startSearch(button.dataset.title);
  });
}
window.addEventListener("pagehide", () => stopSearch());

// --- create a match ---------------------------------------------------------------------------

function settingsOf(form) {
  const settings = {};
  for (const input of form.querySelectorAll("input[data-type]")) {
    const type = input.dataset.type;
    if (type === "bool") settings[input.name] = input.checked;
    else if (type === "int") settings[input.name] = parseInt(input.value, 10);
    else settings[input.name] = parseFloat(input.value);
  }
  return settings;
}

for (const form of document.querySelectorAll("form.create-form")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!requirePlayer()) return;
    const status = form.querySelector(".create-status");
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    status.textContent = "Creating…";
    try {
      const { match } = await api.create(form.dataset.title, settingsOf(form));
      go(match.id);
    } catch (err) {
      status.textContent = err.message;
      button.disabled = false;
    }
  });
}

// --- the live list -------------------------------------------------------------------------

function actionFor(match) {
  const open = match.status === "waiting" && match.players.length < match.max_players;
  if (match.your_slot !== null && match.your_slot !== undefined) {
    return { label: match.status === "waiting" ? "Open" : "Rejoin", kind: "link" };
  }
  if (open) return { label: "Join", kind: "join" };
  return { label: match.status === "running" ? "Watch" : "Open", kind: "link" };
}

function row(match) {
  const tr = document.createElement("tr");
  tr.dataset.match = match.id;
  tr.dataset.status = match.status;
  const game = document.createElement("td");
  const link = document.createElement("a");
  link.href = `/m/${encodeURIComponent(match.id)}/`;
  link.textContent = match.title_label;
  const id = document.createElement("small");
  id.textContent = ` ${match.id}`;
  game.append(link, id);
  const people = document.createElement("td");
  const names = match.players.map((p) => p.name).join(", ") || "nobody yet";
  people.textContent = `${names} (${match.players.length}/${match.max_players})`;
  const status = document.createElement("td");
  status.textContent = STATUS_LABELS[match.status] ?? match.status;
  status.className = `st st-${match.status}`;
  const actions = document.createElement("td");
  const action = actionFor(match);
  if (action.kind === "join") {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "join";
    button.textContent = action.label;
    button.addEventListener("click", () => join(match.id, button));
    actions.append(button);
  } else {
    const a = document.createElement("a");
    a.href = link.href;
    a.className = "button";
    a.textContent = action.label;
    actions.append(a);
  }
  tr.append(game, people, status, actions);
  return tr;
}

async function join(id, button) {
  if (!requirePlayer()) return;
  button.disabled = true;
  try {
    await api.join(id);
    go(id);
  } catch (err) {
    button.disabled = false;
    button.textContent = "Join";
    button.title = err.message;
    nickStatus.textContent = err.message;
  }
}

let lastList = "";
let polls = 0;

function renderMatches(matches) {
  const key = JSON.stringify(matches.map((m) => [m.id, m.status, m.players, m.your_slot]));
  if (key === lastList) return;
  // Keep keyboard focus where it was across a refresh.
  const focused = document.activeElement?.closest?.("tr")?.dataset.match;
  lastList = key;
  body.replaceChildren(...matches.map(row));
  empty.hidden = matches.length > 0;
  if (focused) body.querySelector(`tr[data-match="${CSS.escape(focused)}"] a, tr[data-match="${CSS.escape(focused)}"] button`)?.focus();
}

async function refreshResults() {
  const response = await fetch("/lobby/results", { credentials: "same-origin" });
  if (response.ok) document.getElementById("results").innerHTML = await response.text();
}

async function poll() {
  if (!document.hidden) {
    try {
      const { matches } = await api.matches();
      renderMatches(matches);
      document.getElementById("matches-live").dataset.state = "ok";
      if (++polls % RESULTS_EVERY === 0) await refreshResults();
    } catch {
      document.getElementById("matches-live").dataset.state = "stale";
    }
  }
  setTimeout(poll, POLL_MS);
}

poll();
// "Play again" from a match page lands here with ?play=<title>.
const again = new URLSearchParams(location.search).get("play");
if (again && config.titles[again]) {
  history.replaceState(null, "", "/");
  if (player) startSearch(again);
  else requirePlayer();
}
window.__lobby = { get player() { return player; }, get searching() { return search?.title ?? null; } };
