// The case screen from the keyboard. The keys are printed on the screen next to the
// controls they work (the <kbd> in each label), and every control is a plain form field,
// so this script only chooses fields and submits the forms htmx already handles.
//
// The screen is a grid of media groups (tiles) and ONE grading panel. The panel follows
// the focused tile: its form is pointed at that group's grade address and filled with the
// group's grade (or its known hash's suggestion). Without this script each tile links to
// ?group=<id>, which renders the panel for it.
(() => {
  "use strict";
  const grid = document.querySelector("[data-assess]") || document.querySelector("table .group");
  if (!grid) return;

  const panel = document.getElementById("grade-panel");
  const form = panel ? panel.querySelector("form.grade") : null;
  const groups = () => [...document.querySelectorAll(".group")];
  const groupOf = (el) => (el && el.closest ? el.closest(".group") : null);
  const inPanel = (el) => Boolean(panel && el && panel.contains(el));
  let currentId = panel ? `group-${panel.dataset.group}` : null; // the tile the panel is for
  let pendingActivity = null; // a group whose activity was chosen: the next digit is the age band
  let pending = null; // the htmx request under way: {kind: "grade" | "reveal", id}

  const current = () => (currentId ? document.getElementById(currentId) : null);

  function blur(group) {
    if (!group) return;
    const viewer = group.querySelector(".viewer");
    if (viewer) viewer.replaceChildren(); // the original leaves the page, not just the view
    group.classList.remove("revealed");
  }

  function blurAll() {
    groups().forEach(blur);
  }

  function fill(group) {
    // The group's own grade, or its known hash's suggestion, as the server rendered it.
    const data = group.dataset;
    form.querySelectorAll('input[type="radio"]').forEach((input) => {
      const wanted = input.name === "grade" ? data.initialGrade : data.initialAge;
      input.checked = input.value === wanted;
    });
    const flags = (data.initialFlags || "").split(" ");
    form.querySelectorAll('input[type="checkbox"]').forEach((box) => {
      box.checked = flags.includes(box.name);
    });
    form.elements.namedItem("children").value = data.initialChildren || "";
    form.elements.namedItem("sex").value = data.initialSex || "";
  }

  function clearErrors() {
    const errors = document.getElementById("grade-errors");
    if (errors) errors.replaceChildren();
  }

  // Point the panel at a tile. A new tile's values replace the form's; the same tile
  // keeps what the person typed (a refused grade is corrected, not retyped).
  function select(group) {
    if (!form || !group || !group.dataset.gradeUrl) return;
    const changed = group.id !== currentId;
    currentId = group.id;
    groups().forEach((g) => {
      if (g === group) g.setAttribute("aria-current", "true");
      else g.removeAttribute("aria-current");
    });
    if (!changed && form.getAttribute("hx-target") === `#${group.id}`) return;
    form.setAttribute("action", group.dataset.gradeUrl);
    form.setAttribute("hx-post", group.dataset.gradeUrl);
    form.setAttribute("hx-target", `#${group.id}`);
    if (window.htmx) window.htmx.process(form); // htmx reads hx-post when it processes
    panel.dataset.group = group.dataset.lead;
    const title = panel.querySelector(".panel-item");
    if (title) title.textContent = `#${group.dataset.lead}`;
    if (changed) {
      fill(group);
      clearErrors();
      pendingActivity = null;
    }
  }

  function focusGroup(group) {
    if (!group) return;
    group.focus();
    group.scrollIntoView({ block: "nearest" });
  }

  function step(from, delta) {
    const all = groups();
    const at = all.indexOf(from);
    return all[Math.min(all.length - 1, Math.max(0, (at < 0 ? 0 : at) + delta))];
  }

  function nextUngraded(from) {
    const all = groups();
    const at = all.indexOf(from);
    const after = all.slice(at + 1).concat(all.slice(0, at + 1));
    return after.find((g) => !g.classList.contains("graded")) || null;
  }

  function submitGrade(group) {
    if (!form) return;
    select(group);
    form.requestSubmit();
  }

  function labelFor(key, name) {
    // The label whose <kbd> shows this key, among the panel's fields of that name (any
    // field when name is empty).
    const selector = name ? `input[name="${name}"]` : "input";
    return [...form.querySelectorAll(selector)]
      .map((input) => input.closest("label"))
      .find((l) => l && l.querySelector("kbd") && l.querySelector("kbd").textContent === key);
  }

  function inputFor(key, name) {
    const label = labelFor(key, name);
    return label ? label.querySelector("input") : null;
  }

  function setRate(group, delta, absolute) {
    const video = group && group.querySelector(".viewer video");
    if (!video) return;
    const rate = absolute !== undefined ? absolute : video.playbackRate + delta;
    video.playbackRate = Math.min(8, Math.max(0.25, rate));
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key;
    const el = event.target;
    // Enter on a choice of the decision form decides (browsers only submit from text),
    // and on a choice of the grading panel saves the grade.
    if (key === "Enter" && el.matches && el.matches("#decision input[type=radio], #decision input[type=checkbox], #decision select")) {
      event.preventDefault();
      el.form.requestSubmit();
      return;
    }
    if (key === "Enter" && form && el.form === form && el.matches("input[type=radio], input[type=checkbox]")) {
      event.preventDefault();
      submitGrade(current());
      return;
    }
    if (el.matches && el.matches("textarea, select, input[type=text], input[type=number], input[type=date], input[type=search]")) return;
    const group = groupOf(document.activeElement) || (inPanel(document.activeElement) ? current() : null);
    if (key === "?") {
      const help = document.querySelector(".keys-help");
      if (help) help.open = !help.open;
      return;
    }
    if (key === "d") {
      const decision =
        document.querySelector('#decision input[name="criminal"]:checked') ||
        document.querySelector("#decision input:not([type=hidden]), #decision button");
      if (decision) {
        event.preventDefault();
        blurAll();
        decision.focus();
      }
      return;
    }
    // Arrows belong to a radio group or select when one has focus; j/k work everywhere.
    const inControl = Boolean(el.matches && el.matches("input, select, button, textarea"));
    if (inControl && key.startsWith("Arrow")) return;
    if (key === "j" || key === "ArrowRight" || key === "ArrowDown") {
      event.preventDefault();
      focusGroup(group ? step(group, 1) : groups()[0]);
      return;
    }
    if (key === "k" || key === "ArrowLeft" || key === "ArrowUp") {
      event.preventDefault();
      focusGroup(group ? step(group, -1) : groups()[0]);
      return;
    }
    if (!group) return;
    if (key === "v") {
      event.preventDefault();
      if (group.classList.contains("revealed")) blur(group);
      else {
        const reveal = group.querySelector("form.reveal") || document.getElementById(`reveal-${group.id.replace("group-", "")}`);
        if (reveal) reveal.requestSubmit();
      }
      return;
    }
    if (key === "[" || key === "]") {
      setRate(group, key === "]" ? 0.5 : -0.5);
      return;
    }
    if (!form || !group.dataset.gradeUrl) return;
    select(group);
    if (/^[1-9]$/.test(key)) {
      event.preventDefault();
      if (pendingActivity === group.id) {
        const age = inputFor(key, "age_band");
        if (age) {
          age.checked = true;
          pendingActivity = null;
          submitGrade(group);
        }
      } else {
        const activity = inputFor(key, "grade");
        if (activity) {
          activity.checked = true;
          pendingActivity = group.id;
        }
      }
      return;
    }
    const notCsam = inputFor(key, "grade");
    if (notCsam) {
      event.preventDefault();
      notCsam.checked = true;
      pendingActivity = null;
      submitGrade(group);
      return;
    }
    const flag = labelFor(key, "");
    if (flag) {
      const box = flag.querySelector("input[type=checkbox]");
      if (box) {
        event.preventDefault();
        box.checked = !box.checked;
      }
      return;
    }
    if (key === "Enter" && el === group) {
      event.preventDefault();
      pendingActivity = null;
      submitGrade(group);
    }
  });

  // Focus on a tile (click, Tab, arrows) brings the panel to it.
  document.addEventListener("focusin", (event) => {
    const group = groupOf(event.target);
    if (group) select(group);
  });

  // Leaving an item blurs it again, by keyboard or pointer; going from a tile to its
  // grading panel (and back) is not leaving it.
  document.addEventListener("focusout", (event) => {
    const from = event.target;
    const left = groupOf(from) || (inPanel(from) ? current() : null);
    const to = event.relatedTarget;
    if (!left || left.contains(to) || (left === current() && inPanel(to))) return;
    if (pendingActivity === left.id) pendingActivity = null;
    blur(left);
  });
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) blurAll();
  });

  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("button[data-rate]");
    if (button) setRate(groupOf(button), 0, Number(button.dataset.rate));
    // "Grade #N" reloads the page without this script; with it, the panel just follows.
    const choose = event.target.closest && event.target.closest("a.choose");
    if (choose) {
      event.preventDefault();
      focusGroup(groupOf(choose));
    }
  });

  document.body.addEventListener("htmx:beforeRequest", (event) => {
    const elt = event.detail.elt;
    if (form && elt === form) pending = { kind: "grade", id: currentId };
    else {
      // A reveal: its form is in the tile, or (the resolve table) names its row.
      const row = elt.id && elt.id.startsWith("reveal-") ? `group-${elt.id.slice(7)}` : null;
      const group = groupOf(elt) || (row ? document.getElementById(row) : null);
      pending = group ? { kind: "reveal", id: group.id } : null;
    }
  });

  // The verdict follows the grades until the person chooses it themselves.
  let verdictChosen = false;
  document.addEventListener("change", (event) => {
    if (event.target.matches && event.target.matches('#decision input[name="criminal"]')) verdictChosen = true;
  });
  function suggestVerdict() {
    if (verdictChosen) return;
    const criminal = Boolean(document.querySelector('.graded-as[data-csam="1"]'));
    const radio = document.querySelector(`#decision input[name="criminal"][value="${criminal ? "yes" : "no"}"]`);
    if (radio) radio.checked = true;
    // Nothing criminal graded: the likeliest reason, which the analyst can change.
    const reason = document.querySelector('#decision select[name="closure_reason"]');
    const graded = document.querySelectorAll(".graded-as").length;
    if (reason && !criminal && graded && !reason.value) reason.value = "not_csam";
    if (reason && criminal) reason.value = "";
  }

  document.body.addEventListener("htmx:afterSettle", () => {
    // Settles come once per swapped element (the group and its out-of-band counters);
    // the first finds the page complete and handles the request.
    suggestVerdict();
    const done = pending;
    pending = null;
    const group = done ? document.getElementById(done.id) : null;
    if (!group) return;
    if (done.kind === "reveal") {
      const viewer = group.querySelector(".viewer");
      if (viewer && viewer.querySelector(".revealed-media")) {
        group.classList.add("revealed");
        if (!group.contains(document.activeElement) && !inPanel(document.activeElement)) group.focus();
      }
      return;
    }
    // A grade was saved (or refused). The swapped tile is a new element: mark it again.
    if (currentId === group.id) group.setAttribute("aria-current", "true");
    const refused = document.querySelector("#grade-errors li");
    if (group.classList.contains("graded") && !refused) focusGroup(nextUngraded(group) || group);
    else focusGroup(group);
  });

  // Tiles are reached by Tab themselves; their no-script "Grade #N" links need no stop.
  document.querySelectorAll("a.choose").forEach((link) => link.setAttribute("tabindex", "-1"));
  // Tests (and people watching closely) can tell the keys work from here on.
  document.body.dataset.keys = "ready";
})();
