// The order form's live dose-window check: as the preferred time (or dose) changes, ask the
// server for the check fragment and put it into the form's aria-live region, so a screen
// reader hears the answer too. Without this script the form's "Check this time" button
// gives the same answer by reloading the page.
(function () {
  "use strict";
  const form = document.querySelector("form[data-order-check]");
  const region = document.getElementById("order-check");
  if (!form || !region) {
    return;
  }
  const url = form.dataset.orderCheck;
  const fields = ["preferred_at", "reduction", "platelets_per_mm3"];
  let timer = null;
  let pending = null;

  function query() {
    const params = new URLSearchParams();
    for (const name of fields) {
      const input = form.elements.namedItem(name);
      if (input && input.value) {
        params.set(name, input.value);
      }
    }
    return params.toString();
  }

  async function check() {
    if (pending) {
      pending.abort(); // only the latest answer matters
    }
    pending = new AbortController();
    region.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(url + "?" + query(), {
        headers: { Accept: "text/html" },
        credentials: "same-origin",
        signal: pending.signal,
      });
      if (response.redirected && new URL(response.url).pathname === "/login") {
        region.textContent = "Your login has ended: reload the page and log in again.";
      } else if (!response.ok && response.status !== 422) {
        // a whole error page (the patient gone, the role changed): say so, do not nest it
        region.textContent = "The check could not be made (" + response.status + "): reload the page.";
      } else {
        region.innerHTML = await response.text(); // the server's own escaped HTML
      }
    } catch (error) {
      if (error.name !== "AbortError") {
        region.textContent = "The check could not be made; use the Check this time button.";
      }
    } finally {
      region.removeAttribute("aria-busy");
    }
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(check, 350); // wait for the typing to pause
  }

  for (const name of fields) {
    const input = form.elements.namedItem(name);
    if (input) {
      input.addEventListener("input", soon);
      input.addEventListener("change", soon);
    }
  }
})();
