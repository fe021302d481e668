// The login-state card of a page that needs a logged-in user (the "gate"
// template): it asks who is logged in and shows one of
//   loading  checking the session;
//   out      not logged in: a short countdown, then the login page;
//   error    the session could not be checked: a retry, never a loop;
//   in       logged in: the page shows itself;
// or a state of the page's own (the admin page's "forbidden"). It owns the
// page's session (session.js), and says so when the session ends.
//
// createGate(options) takes
//   enter(user)     async: the user is logged in. The session is active, so
//                   that the page's first API calls can renew it; the page
//                   loads what it shows, all at once, and resolves true to
//                   show itself, false when it showed another state (or the
//                   session ended meanwhile);
//   shown(user)     the page is showing, with the session kept alive;
//   onState(state)  the card changed state: show or hide the page's parts;
//   onUser(user)    a refresh read /user again while the page shows it;
//   onResume()      the tab shows again: reload what may have changed;
//   stayText        what the card says after "Stay on this page".
// It returns {session, check, show, stopCountdown}; the page calls check()
// once it has set itself up.

import { $ } from "./dom.js";
import { createSession } from "./session.js";

export function createGate(options) {
  const { enter, shown = () => {}, onState = () => {}, stayText } = options;
  const card = $("gate");
  const status = $("status");
  const countdown = $("countdown");
  const endedReason = $("ended-reason");
  const errorMessage = $("error-message");

  let checking = false;

  const session = createSession({
    onUser: options.onUser,
    onResume: options.onResume,
    onEnded: () => loggedOut("Your session has ended", true),
  });

  const countdownToLogin = loginCountdown(countdown, card);

  // show puts the card in state; heading (the card's title) and title (the
  // document's, before " · jwtgate") when given.
  function show(state, heading, title) {
    if (state !== "out") {
      countdownToLogin.stop();
    }
    card.dataset.state = state;
    card.setAttribute("aria-busy", state === "loading" ? "true" : "false");
    card.classList.remove("is-counting", "is-cancelled");
    if (state !== "in") {
      session.stop();
    }
    if (heading !== undefined) {
      status.textContent = heading;
    }
    if (title !== undefined) {
      document.title = `${title} · jwtgate`;
    }
    onState(state);
  }

  // The session is not (or no longer) there: say so, count down, go to /login.
  function loggedOut(heading = "Not logged in", ended = false) {
    show("out", heading, heading);
    endedReason.hidden = !ended;
    countdownToLogin.start();
  }

  function failed(text) {
    show("error", "Could not check your session", "Error");
    errorMessage.textContent = text;
  }

  async function check() {
    if (checking) {
      return;
    }
    checking = true;
    show("loading", "Checking your session…");
    try {
      const who = await session.whoami();
      if (who.state === "out") {
        loggedOut();
        return;
      }
      if (who.state === "error") {
        failed(who.text);
        return;
      }
      session.begin();
      if (!(await enter(who.user)) || !session.active) {
        return;
      }
      show("in");
      session.start(who.user);
      shown(who.user);
    } finally {
      checking = false;
    }
  }

  $("stay").addEventListener("click", () => {
    countdownToLogin.stop();
    card.classList.remove("is-counting");
    card.classList.add("is-cancelled");
    countdown.textContent = stayText;
    $("login-now").focus();
  });

  $("retry").addEventListener("click", () => {
    check();
  });

  // Coming back through the back/forward cache: ask again, the session may
  // have changed meanwhile.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) {
      check();
    }
  });

  return Object.freeze({ session, check, show, stopCountdown: countdownToLogin.stop });
}

// loginCountdown writes "Going to the login page in 3…", then "3…2…", then
// "3…2…1" into countdown, restarts the progress bar's animation on bar (the
// element carrying the is-counting class), then goes to /login. stop()
// cancels a countdown in progress.
function loginCountdown(countdown, bar, seconds = 3) {
  let timer = 0;
  function stop() {
    clearInterval(timer);
    timer = 0;
  }
  function start() {
    stop();
    const ticks = [];
    let left = seconds;
    const render = () => {
      ticks.push(String(left));
      countdown.textContent = `Going to the login page in ${ticks.join("…")}…`;
    };
    render();
    // Restart the bar's animation from the beginning.
    void bar.offsetWidth;
    bar.classList.add("is-counting");
    timer = setInterval(() => {
      left -= 1;
      if (left <= 0) {
        stop();
        countdown.textContent = "Going to the login page now…";
        location.assign("/login");
        return;
      }
      render();
    }, 1000);
  }
  return Object.freeze({ start, stop });
}
