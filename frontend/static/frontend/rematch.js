// After a finished match, its players are asked whether to play again (docs/protocol.md,
// /api/matches/<id>/rematch). The socket is closed by then: the page asks once a second.
import { api } from "./api.js";

const ASK_MS = 1000;
const $ = (id) => document.getElementById(id);

export function offerRematch(matchId, mySlot) {
  const button = $("rematch");
  const decline = $("decline");
  const status = $("rematch-status");
  let timer = null;
  let over = false;

  function show(offer) {
    if (offer.status === "made") {
      over = true;
      status.textContent = "Everyone is in: the rematch starts.";
      location.assign(`/m/${encodeURIComponent(offer.match)}/`);
      return;
    }
    const mine = offer.answers.find((a) => a.slot === mySlot)?.answer ?? null;
    const no = offer.answers.find((a) => a.answer === "no");
    if (offer.status === "declined") {
      over = true;
      button.hidden = decline.hidden = true;
      status.textContent = no.slot === mySlot ? "You declined the rematch." : `${no.name} declined the rematch.`;
      return;
    }
    if (offer.status === "expired") {
      over = true;
      button.hidden = decline.hidden = true;
      status.textContent = "The rematch offer has expired.";
      return;
    }
    const asking = offer.answers.filter((a) => a.answer === "yes" && a.slot !== mySlot);
    const waiting = offer.answers.filter((a) => a.answer === null && a.slot !== mySlot);
    button.hidden = mine === "yes";
    decline.hidden = mine !== null || asking.length === 0;
    button.textContent = asking.length ? "Accept rematch" : "Rematch";
    if (mine === "yes") status.textContent = `Waiting for ${waiting.map((a) => a.name).join(", ")}…`;
    else if (asking.length) status.textContent = `${asking.map((a) => a.name).join(", ")} want${asking.length > 1 ? "" : "s"} a rematch.`;
    else status.textContent = "";
  }

  async function poll() {
    try {
      show((await api.rematch(matchId)).rematch);
    } catch {
      // asked again next time
    }
    if (!over) timer = setTimeout(poll, ASK_MS);
  }

  async function answer(accept) {
    button.disabled = decline.disabled = true;
    try {
      show((await api.answerRematch(matchId, accept)).rematch);
    } catch (err) {
      status.textContent = err.message;
    } finally {
      button.disabled = decline.disabled = false;
    }
  }

  button.addEventListener("click", () => answer(true));
  decline.addEventListener("click", () => answer(false));
  button.hidden = false;
  poll();
  return () => clearTimeout(timer);
}
