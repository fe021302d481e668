// jwtgate home page.
//
// Asks GET /user who is logged in. The session is an HttpOnly cookie the
// browser sends by itself; this script never sees a token.
//   200 -> "Logged in as NAME", roles, a Logout button.
//   401 -> "Not logged in", a short countdown, then the login page.
//   anything else -> an error with a retry button (no redirect loop).
"use strict";

(() => {
  const card = document.getElementById("home");
  const status = document.getElementById("status");
  const avatar = document.getElementById("avatar");
  const countdown = document.getElementById("countdown");
  const stay = document.getElementById("stay");
  const rolesRow = document.getElementById("roles-row");
  const roles = document.getElementById("roles");
  const userID = document.getElementById("user-id");
  const logout = document.getElementById("logout");
  const logoutLabel = logout.querySelector(".button-label");
  const logoutError = document.getElementById("logout-error");
  const errorMessage = document.getElementById("error-message");
  const retry = document.getElementById("retry");

  const REDIRECT_SECONDS = 3;
  const REQUEST_TIMEOUT_MS = 15000;

  let timer = 0;
  let checking = false;

  function setState(state) {
    card.dataset.state = state;
    card.setAttribute("aria-busy", state === "loading" ? "true" : "false");
    card.classList.remove("is-counting", "is-cancelled");
  }

  function stopCountdown() {
    clearInterval(timer);
    timer = 0;
  }

  // "Going to the login page in 3…", then "3…2…", then "3…2…1", then go.
  function loggedOut() {
    setState("out");
    status.textContent = "Not logged in";
    document.title = "Not logged in · jwtgate";
    const ticks = [];
    let left = REDIRECT_SECONDS;
    const render = () => {
      ticks.push(String(left));
      countdown.textContent = `Going to the login page in ${ticks.join("…")}…`;
    };
    render();
    // Restart the bar's animation from the beginning.
    void card.offsetWidth;
    card.classList.add("is-counting");
    timer = setInterval(() => {
      left -= 1;
      if (left <= 0) {
        stopCountdown();
        countdown.textContent = "Going to the login page now…";
        location.assign("/login");
        return;
      }
      render();
    }, 1000);
  }

  function loggedIn(user) {
    setState("in");
    const name = document.createElement("span");
    name.id = "user-name";
    name.className = "user-name";
    name.textContent = user.name;
    status.replaceChildren("Logged in as ", name);
    document.title = `${user.name} · jwtgate`;

    avatar.textContent = Array.from(user.name.trim())[0] || "?";

    const list = Array.isArray(user.roles) ? user.roles.filter((r) => typeof r === "string" && r) : [];
    roles.replaceChildren(
      ...list.map((role) => {
        const li = document.createElement("li");
        li.textContent = role;
        return li;
      }),
    );
    rolesRow.hidden = list.length === 0;

    const hasID = typeof user.id === "number" || typeof user.id === "string";
    userID.textContent = hasID ? String(user.id) : "";
    userID.parentElement.hidden = !hasID;
  }

  function failed(text) {
    setState("error");
    status.textContent = "Could not check your session";
    document.title = "Error · jwtgate";
    errorMessage.textContent = text;
  }

  async function check() {
    if (checking) {
      return;
    }
    checking = true;
    stopCountdown();
    setState("loading");
    status.textContent = "Checking your session…";
    try {
      let res;
      try {
        res = await fetch("/user", {
          headers: { Accept: "application/json" },
          cache: "no-store",
          credentials: "same-origin",
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
      } catch {
        failed("The server could not be reached. Check your connection and try again.");
        return;
      }
      if (res.status === 401) {
        loggedOut();
        return;
      }
      if (!res.ok) {
        failed(
          res.status === 503 || res.status === 429
            ? "The server is busy right now. Please try again in a moment."
            : `The server answered with an error (HTTP ${res.status}). Please try again.`,
        );
        return;
      }
      let user = null;
      try {
        user = await res.json();
      } catch {
        // handled below
      }
      if (!user || typeof user.name !== "string" || user.name === "") {
        failed("The server sent an answer this page does not understand.");
        return;
      }
      loggedIn(user);
    } finally {
      checking = false;
    }
  }

  stay.addEventListener("click", () => {
    stopCountdown();
    card.classList.remove("is-counting");
    card.classList.add("is-cancelled");
    countdown.textContent = "You are not logged in. Log in to see your account.";
    document.getElementById("login-now").focus();
  });

  retry.addEventListener("click", () => {
    check();
  });

  logout.addEventListener("click", async () => {
    logout.disabled = true;
    logout.classList.add("is-busy");
    logoutLabel.textContent = "Logging out…";
    logoutError.replaceChildren();
    let done = false;
    try {
      const res = await fetch("/logout", { method: "POST", cache: "no-store", credentials: "same-origin" });
      // 401: the session had ended anyway.
      done = res.ok || res.status === 401;
    } catch {
      done = false;
    }
    if (done) {
      location.assign("/login");
      return;
    }
    logout.disabled = false;
    logout.classList.remove("is-busy");
    logoutLabel.textContent = "Log out";
    logoutError.textContent = "Could not log out. Please try again.";
  });

  // Coming back through the back/forward cache: ask again, the session may
  // have changed meanwhile.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) {
      check();
    }
  });

  check();
})();
